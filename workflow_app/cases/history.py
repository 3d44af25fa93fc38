"""History tables of cases and decisions.

simple-history copies every index of a model onto its history table (the reference and its
``LIKE`` twin, the status and its twin, each foreign key). History rows are read only through
their case (``case.history``: by id, newest first — the admin's history page), yet every
transition inserts one, and each index is one more write in that transaction. A case's history
keeps the indexes it is read by: the case id and the history date (and the history user's key,
which simple-history adds itself).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords


class CaseHistory(HistoricalRecords):
    def copy_fields(self, model: Any) -> dict[str, Any]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


class _BuiltHistoryDescriptor(HistoryDescriptor):
    """simple-history builds the history manager's class (``Manager.from_queryset``: a walk over
    the queryset class's members with ``inspect``) on every ``instance.history`` access, and
    writing a history row makes one such access: the class is built once here, and each access
    still gets its own manager for its instance, as before."""

    def __init__(self, original: HistoryDescriptor) -> None:
        super().__init__(
            original.model, manager=original.manager_class, queryset=original.queryset_class
        )
        self._manager = original.manager_class.from_queryset(original.queryset_class)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self._manager(self.model, instance)


def build_history_managers() -> None:
    """Give every model's history descriptor its manager class built once (at start-up, after
    simple-history has finalised every model)."""
    for model in apps.get_models():
        name = getattr(model._meta, "simple_history_manager_attribute", None)
        descriptor = model.__dict__.get(name) if name else None
        if name and type(descriptor) is HistoryDescriptor:
            setattr(model, name, _BuiltHistoryDescriptor(descriptor))
