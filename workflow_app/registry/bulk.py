"""Bulk inserts with their history rows, fast on PostgreSQL.

``insert_with_history`` does what simple-history's ``bulk_create_with_history`` does — the rows,
then one ``+`` history row per row with the same user, reason and time — but on PostgreSQL it
takes the ids from the table's sequence and writes both tables with ``COPY``: no SQL text of
5,000 × 17 placeholders to build, no per-value ORM preparation (profiled: 60 % of a 5,000-record
import went there). Values are the model's own attribute values, so only fields whose Python
value PostgreSQL reads as-is (text, numbers, dates, booleans, None, JSON already dumped) may be
used — :func:`_copyable` checks this once per model. Other databases use simple-history's
function unchanged. Both run inside the caller's transaction; a unique violation raises
Django's ``IntegrityError`` as ``bulk_create`` would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

_SIMPLE = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.BooleanField,
    models.DateField,  # DateTimeField included
    models.ForeignKey,  # OneToOneField included
    models.JSONField,
    models.AutoField,
    models.BigAutoField,
)


def _copyable(model: type[models.Model]) -> bool:
    return all(isinstance(f, _SIMPLE) for f in model._meta.concrete_fields)


def _value(field: models.Field, obj: Any, now: Any, *, add: bool) -> Any:
    if isinstance(field, models.DateField) and (
        getattr(field, "auto_now", False) or (add and getattr(field, "auto_now_add", False))
    ):
        setattr(obj, field.attname, now)
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField):
        return None if value is None else json.dumps(value, ensure_ascii=False)
    return value


def _copy(table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.wrap_database_errors, connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _next_ids(model: type[models.Model], n: int) -> list[int]:
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, n],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_with_history(
    objs: list[Any], model: type[models.Model], *, user: Any, reason: str
) -> list[Any]:
    """Insert ``objs`` (unsaved instances of ``model``) and their history; returns them with
    their ids set."""
    if not objs:
        return objs
    history_model = get_history_manager_for_model(model).model
    if connection.vendor != "postgresql" or not (_copyable(model) and _copyable(history_model)):
        return list(
            bulk_create_with_history(objs, model, default_user=user, default_change_reason=reason)
        )
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    with transaction.atomic(savepoint=False):
        for obj, pk in zip(objs, _next_ids(model, len(objs)), strict=True):
            obj.pk = pk
        fields = list(model._meta.concrete_fields)
        rows = [[_value(f, obj, now, add=True) for f in fields] for obj in objs]
        _copy(model._meta.db_table, [str(f.column) for f in fields], rows)
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias

        by_name = {f.attname: i for i, f in enumerate(fields)}
        history_fields = [f for f in history_model._meta.concrete_fields if not f.primary_key]
        fixed = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user_id,
        }
        history_rows = []
        for row in rows:
            history_rows.append(
                [
                    fixed[f.attname] if f.attname in fixed else _history_value(f, row, by_name)
                    for f in history_fields
                ]
            )
        _copy(history_model._meta.db_table, [str(f.column) for f in history_fields], history_rows)
    return objs


def _history_value(field: models.Field, row: list[Any], by_name: dict[str, int]) -> Any:
    index = by_name.get(field.attname)
    if index is None:
        raise ValueError(f"history field {field.attname} has no source column")
    return row[index]
