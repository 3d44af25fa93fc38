"""Every relation of the project's models has a label of its own: the admin shows it as a column
header and a field name, in Chinese and in English (an unlabelled one showed "subject")."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import translation

ROOT = Path(settings.BASE_DIR).resolve()
# viewflow's own columns of its task and process models (the admin does not show them)
VIEWFLOW = {
    "process",
    "seed_content_type",
    "artifact_content_type",
    "owner_permission_content_type",
}


def _ours(model: type[models.Model]) -> bool:
    """A model of this project's apps (not of an installed package)."""
    path = Path(model._meta.app_config.path).resolve()
    return ROOT in path.parents and ".venv" not in path.parts


def test_every_relation_has_a_label_in_both_languages():
    missing = []
    for model in apps.get_models():
        if not _ours(model) or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey) or field.name in VIEWFLOW:
                continue
            if str(field.verbose_name) == field.name.replace("_", " "):
                missing.append(f"{model._meta.label}.{field.name}")
                continue
            with translation.override("en"):
                english = str(field.verbose_name)
            if any("\u4e00" <= ch <= "\u9fff" for ch in english):
                missing.append(f"{model._meta.label}.{field.name} (English: {english})")
    assert missing == []
