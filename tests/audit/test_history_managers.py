"""Every model's history manager class is built once at start-up (simple-history built it on
every access, and every history row written makes one)."""

from __future__ import annotations

import pytest
from django.apps import apps
from simple_history.manager import HistoryDescriptor

from tests.factories import CreditRecordFactory
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def test_every_history_descriptor_reuses_one_manager_class():
    with_history = [
        m for m in apps.get_models() if hasattr(m._meta, "simple_history_manager_attribute")
    ]
    assert len(with_history) >= 10
    for model in with_history:
        name = model._meta.simple_history_manager_attribute
        assert isinstance(model.__dict__[name], HistoryDescriptor)
        assert type(getattr(model, name)) is type(getattr(model, name)), model


def test_history_rows_are_written_and_read_through_the_built_manager():
    record = CreditRecordFactory()
    record.note = "更正"
    record.save()
    rows = list(record.history.all())
    assert [r.history_type for r in rows] == ["~", "+"]
    assert rows[0].instance.note == "更正"
    assert CreditRecord.history.filter(id=record.pk).count() == 2
