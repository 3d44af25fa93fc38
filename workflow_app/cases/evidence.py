"""One evidence mechanism for every case kind (objections, repairs, commitments).

- Files are checked by content, size and count (:func:`workflow_app.uploads.check_evidence_files`)
  before anything is stored; a refusal stores nothing.
- The row is written in the caller's transaction; the bytes are written to storage only after
  that transaction commits (``transaction.on_commit``). A rolled-back filing leaves no file.
- Should a process die between the commit and the write, the row points at a missing file: the
  download answers 404 with a message instead of failing. Files that no row names (a crash
  between a write and a rollback in older versions, or manual copies) are removed by
  :func:`evidence_remove_orphans` once they are a day old (``run_sweeps``).

A domain app declares ``class Evidence(EvidenceBase)`` with a foreign key to its case and sets
``CASE_FIELD`` to that key's name.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow_app.uploads import CheckedFile

EVIDENCE_ROOT = "evidence"
_SAFE = re.compile(r"[^0-9A-Za-z._\-\u4e00-\u9fff]+")


class EvidenceBase(models.Model):
    class Stage(models.TextChoices):
        FILING = "filing", _("申请时提交")
        SUPPLEMENT = "supplement", _("补正材料")
        FULFILMENT = "fulfilment", _("履约材料")

    CASE_FIELD = "case"

    file = models.FileField(max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.FILING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def stored(self) -> bool:
        name = self.file.name
        return bool(name) and default_storage.exists(str(name))


def _storage_name(case: Any, item: CheckedFile) -> str:
    base, ext = os.path.splitext(item.name)
    base = _SAFE.sub("_", base)[-60:] or "file"
    ext = ext.lower() if ext.lower() in (".pdf", ".jpg", ".jpeg", ".png") else ""
    return f"{EVIDENCE_ROOT}/{case.CASE_KIND}/{case.pk}/{item.sha256[:16]}-{base}{ext}"


def _write(model: type[EvidenceBase], pk: int, name: str, upload: Any) -> None:
    upload.seek(0)
    saved = default_storage.save(name, upload)
    if saved != name:  # the same file twice in one case: storage picked another name
        model._default_manager.filter(pk=pk).update(file=saved)


def evidence_store(
    *,
    model: type[EvidenceBase],
    case: Any,
    files: Sequence[CheckedFile],
    by: Any,
    stage: str = EvidenceBase.Stage.FILING,
) -> list[EvidenceBase]:
    """Write evidence rows for checked files in the caller's transaction; the bytes follow after
    the commit."""
    rows = []
    for item in files:
        row = model(
            **{model.CASE_FIELD: case},
            original_name=item.name[:255],
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            stage=stage,
            uploaded_by=by,
        )
        row.file.name = _storage_name(case, item)
        row._history_user = by  # type: ignore[attr-defined]
        row.save()
        transaction.on_commit(partial(_write, model, row.pk, row.file.name, item.upload))
        rows.append(row)
    return rows


def evidence_models() -> list[type[EvidenceBase]]:
    return [m for m in apps.get_models() if issubclass(m, EvidenceBase)]


def _walk(path: str) -> Iterable[str]:
    dirs, files = default_storage.listdir(path)
    for f in files:
        yield f"{path}/{f}"
    for d in dirs:
        yield from _walk(f"{path}/{d}")


def evidence_remove_orphans(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete stored evidence files that no evidence row names and that are older than a day.
    Returns how many were removed."""
    if older_than is None:
        older_than = datetime.timedelta(days=1)
    try:
        names = list(_walk(EVIDENCE_ROOT))
    except (FileNotFoundError, NotImplementedError):
        return 0
    if not names:
        return 0
    known: set[str] = set()
    for model in evidence_models():
        known.update(model._default_manager.filter(file__in=names).values_list("file", flat=True))
    cutoff = timezone.now() - older_than
    removed = 0
    for name in names:
        if name in known:
            continue
        try:
            modified = default_storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if timezone.is_naive(modified):
            modified = timezone.make_aware(modified)
        if modified < cutoff:
            default_storage.delete(name)
            removed += 1
    return removed
