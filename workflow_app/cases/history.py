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

from simple_history.models import HistoricalRecords


class CaseHistory(HistoricalRecords):
    def copy_fields(self, model: Any) -> dict[str, Any]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields
