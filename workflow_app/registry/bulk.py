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
from collections.abc import Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Lookup, QuerySet
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


@models.CharField.register_lookup
class AnyOf(Lookup):  # type: ignore[type-arg]
    """``field__any_of=[...]`` on PostgreSQL: ``field = ANY(%s)`` with the list as one array
    parameter (see :func:`where_in`)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return [str(v) for v in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if connection.vendor != "postgresql":
            raise NotImplementedError("any_of is for PostgreSQL; use where_in()")
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def where_in(qs: QuerySet[Any], field: str, values: Iterable[str]) -> list[Any]:
    """The rows of ``qs`` whose text ``field`` is one of ``values``. On PostgreSQL one query with
    the values as one array parameter: a 5,000-item batch is one bound value instead of 5,000
    placeholders to build, send and parse (profiled: a tenth of an import batch). Elsewhere
    ``IN`` in chunks below SQLite's variable limit."""
    values = list(values)
    if connection.vendor == "postgresql":
        return list(qs.filter(**{f"{field}__any_of": values}))
    found: list[Any] = []
    for start in range(0, len(values), 900):
        found.extend(qs.filter(**{f"{field}__in": values[start : start + 900]}))
    return found


def _copyable(model: type[models.Model]) -> bool:
    return all(isinstance(f, _SIMPLE) for f in model._meta.concrete_fields)


def _row_reader(fields: list[models.Field]) -> Any:
    """A function giving an object's values for ``fields`` as a list (one C-level getter for all
    attributes; JSON fields dumped as COPY wants them)."""
    get = attrgetter(*[f.attname for f in fields])
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

    def read(obj: Any) -> list[Any]:
        row = list(get(obj)) if len(fields) > 1 else [get(obj)]
        for i in json_at:
            if row[i] is not None:
                row[i] = json.dumps(row[i], ensure_ascii=False)
        return row

    return read


def _set_auto_now(fields: list[models.Field], objs: Sequence[Any], now: Any) -> None:
    for field in fields:
        if isinstance(field, models.DateField) and (
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        ):
            for obj in objs:
                setattr(obj, field.attname, now)


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
        _set_auto_now(fields, objs, now)
        read = _row_reader(fields)
        rows = [read(obj) for obj in objs]
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
        # each history column is a fixed value or a column of the row: one getter for the latter
        copied = [f for f in history_fields if f.attname not in fixed]
        missing = [f.attname for f in copied if f.attname not in by_name]
        if missing:
            raise ValueError(f"history fields {missing} have no source column")
        getter = itemgetter(*[by_name[f.attname] for f in copied])
        take = getter if len(copied) > 1 else (lambda row: (getter(row),))
        tail = [fixed[f.attname] for f in history_fields if f.attname in fixed]
        order = [f.attname for f in copied] + [
            f.attname for f in history_fields if f.attname in fixed
        ]
        columns = [str(history_model._meta.get_field(name).column) for name in order]
        history_rows = [[*take(row), *tail] for row in rows]
        _copy(history_model._meta.db_table, columns, history_rows)
    return objs
