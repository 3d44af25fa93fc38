"""Rows written with SQL built once, and a row and its history row in one statement (issue 10).

Every transition saves its case, often a credit record, and viewflow's task rows; every filing
inserts a case, a process and its first tasks. Two costs were measured on each save:

* **Compiling.** ``Model.save()`` builds its ``INSERT`` or ``UPDATE`` through the ORM's compiler
  on every call, and writes a column that is ``NULL`` as the literal ``NULL``, so the statement's
  text changes with the values and PostgreSQL's prepared statements serve it less often. Here
  the SQL of a model's ``INSERT`` / ``UPDATE`` is built once per database alias with a
  placeholder for every value, and each save only prepares the values — each field's
  ``pre_save`` (``auto_now``, ``auto_now_add``) and ``get_db_prep_save``, as the compilers do.
* **Round trips.** django-simple-history writes a history row after each save: two statements
  per row. :func:`save_with_history` sends both as one statement — the row's ``UPDATE`` (or the
  ``INSERT`` of a new row, its id reserved — ``case_next_id`` — or the database's) in a
  data-modifying ``WITH`` returning the columns the history row records, and the history row's
  ``INSERT`` of those columns as written — their values travel, and are parsed, once::

      WITH "saved" AS (UPDATE … WHERE id = … RETURNING "id", "status", …)
      INSERT INTO "…_historical…" ("id", "status", …, "history_date", …)
      SELECT "saved"."id", "saved"."status", …, CAST(%s AS …), … FROM "saved"
      RETURNING "history_id", "id"

The history row is the one simple-history builds: the row as written, its user, change reason,
date and type (``~`` or ``+``). ``pre_save`` and ``post_save`` are sent as ``save()`` sends them
(simple-history's receiver is told to skip the row it would write a second time — so a
``post_save`` receiver that saves the same instance again would write no history row for that
save; none does). If no row was updated (it is gone) neither row is written and the save is an
error. Only on PostgreSQL, and only for a whole row of a model without a ``save()`` of its own
(:func:`save_row` is for a model's own ``save()``): anything else — ``update_fields``, deferred
fields, a value that is an expression, a field with a placeholder of its own; and for the
history row, a receiver of ``pre/post_create_historical_record`` (it may change the history
instance before it is written), extra history columns, a UUID history id, a history user that
is not a saved user — is ``save()`` itself. :func:`insert_rows` writes several new rows of a
model in one ``INSERT``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Field, Model, signals
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from simple_history.utils import get_change_reason_from_object

Mode = Literal["insert", "insert_returning", "update"]

_HISTORY_MODELS: dict[type[Model], type[Model] | None] = {}


def history_model_of(model: type[Model]) -> type[Model] | None:
    """The model's history model, if simple-history tracks it."""
    try:
        return _HISTORY_MODELS[model]
    except KeyError:
        name = getattr(model._meta, "simple_history_manager_attribute", None)
        found = _HISTORY_MODELS[model] = getattr(model, name).model if name else None
        return found


@dataclass(frozen=True)
class RowSql:
    sql: str
    fields: tuple[Field, ...]  # the values in this order (an update: then the row's id)


# per (database alias, model, mode): built once; None when a field has a placeholder of its own
_ROWS: dict[tuple[str, type[Model], Mode], RowSql | None] = {}
# per (database alias, model, mode): the row's write and its history row in one statement
_COMBINED: dict[tuple[str, type[Model], Mode], Combined] = {}
# the history row's own columns as simple-history defines them (no extra fields)
_HISTORY_OWN = {"history_date", "history_type", "history_user_id", "history_change_reason"}


def _plain(fields: tuple[Field, ...]) -> bool:
    return not any(hasattr(f, "get_placeholder") for f in fields)


def row_sql(connection: Any, model: type[Model], mode: Mode) -> RowSql | None:
    """The row's ``INSERT`` (with its id; or without, returning it) or ``UPDATE`` by id, built
    once per database alias, every value a placeholder (values: :func:`row_values`)."""
    key = (connection.alias, model, mode)
    if key in _ROWS:
        return _ROWS[key]
    qn = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    concrete = [f for f in meta.local_concrete_fields if not f.generated]
    if mode == "update":
        fields = tuple(f for f in concrete if not f.primary_key)
        sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in fields)}"
            f" WHERE {qn(pk.column)} = %s"
        )
    else:
        fields = tuple(concrete if mode == "insert" else (f for f in concrete if f is not pk))
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if mode == "insert_returning":
            sql += f" RETURNING {qn(pk.column)}"
    found = _ROWS[key] = RowSql(sql, fields) if _plain(fields) else None
    return found


def row_values(obj: Model, row: RowSql, mode: Mode, connection: Any) -> list[Any]:
    """What ``Model.save()`` writes: each field's ``pre_save`` and database value."""
    adding = mode != "update"
    params = [f.get_db_prep_save(f.pre_save(obj, adding), connection) for f in row.fields]
    if not adding:
        params.append(obj._meta.pk.get_db_prep_value(obj.pk, connection))  # type: ignore[union-attr]
    return params


def _mode(obj: Model, kwargs: dict[str, Any], *, reserved_id: bool) -> Mode | None:
    """How this save can be written here, or None: ``save()`` itself."""
    if (
        connections[DEFAULT_DB_ALIAS].vendor != "postgresql"
        or obj._state.db not in (None, DEFAULT_DB_ALIAS)
        or obj.get_deferred_fields()  # save() writes only the fields loaded
    ):
        return None
    if not kwargs and not obj._state.adding and obj.pk is not None:
        return "update"
    if obj._state.adding and kwargs in ({}, {"force_insert": True}):
        if obj.pk is None and not reserved_id:
            return "insert_returning"
        if obj.pk is not None and reserved_id and kwargs:
            return "insert"
    return None


def _expressions(obj: Model, row: RowSql) -> bool:
    """Whether a value is an expression (``F()``, a function): the ORM's compiler writes it."""
    return any(hasattr(getattr(obj, f.attname), "resolve_expression") for f in row.fields)


def _post_save(obj: Model, *, created: bool) -> None:
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    signals.post_save.send(
        sender=type(obj),
        instance=obj,
        created=created,
        update_fields=None,
        raw=False,
        using=DEFAULT_DB_ALIAS,
    )


def _row_write(obj: Model, kwargs: dict[str, Any]) -> tuple[Mode, RowSql, list[Any]] | None:
    """What :func:`save_row` sends for ``obj`` — ``pre_save`` sent, the values prepared — or
    None (nothing sent) when only ``save()`` can write it."""
    mode = _mode(obj, kwargs, reserved_id=False)
    connection = connections[DEFAULT_DB_ALIAS]
    row = row_sql(connection, type(obj), mode) if mode else None
    if mode is None or row is None or _expressions(obj, row):
        return None
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    signals.pre_save.send(
        sender=type(obj), instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
    )
    return mode, row, row_values(obj, row, mode, connection)


def save_row(obj: Model, **kwargs: Any) -> bool:
    """Write ``obj`` as ``obj.save(**kwargs)`` would, with SQL built once, and return True; or
    return False when only ``save()`` can (the caller then calls it). For a model's own
    ``save()``: a new row without an id (inserted, its id returned) or an existing row whole."""
    write = _row_write(obj, kwargs)
    if write is None:
        return False
    mode, row, params = write
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.mark_for_rollback_on_error(DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        cursor.execute(row.sql, params)
        if mode == "insert_returning":
            obj.pk = cursor.fetchone()[0]
        elif cursor.rowcount != 1:
            raise DatabaseError(f"{obj._meta.label} {obj.pk}: no row to save (it was deleted)")
    _post_save(obj, created=mode != "update")
    return True


def update_statement(obj: Model) -> tuple[str, list[Any]] | None:
    """The ``UPDATE`` of an existing row whole that ``obj.save()`` would send, built once, with
    its values — ``pre_save`` sent — for a caller that sends it inside a larger statement and
    then calls :func:`update_written`; or None (nothing sent) when only ``save()`` can."""
    if obj._state.adding or obj.pk is None:
        return None
    write = _row_write(obj, {})
    if write is None:
        return None
    _mode_, row, params = write
    return row.sql, params


def update_written(obj: Model) -> None:
    """After the statement holding :func:`update_statement`'s ``UPDATE`` (one row updated)."""
    _post_save(obj, created=False)


_MANY: dict[tuple[str, type[Model], int], str] = {}


def new_rows(objs: Sequence[Model]) -> tuple[str, list[Any]] | None:
    """The one ``INSERT … VALUES (…), (…) RETURNING id`` of new rows of one model without ids,
    built once per row count, and its values (``_prepare_related_fields_for_save`` done); or
    None where only ``bulk_create`` can write them (not PostgreSQL, a field with a placeholder
    of its own, an expression value, a row with an id)."""
    model = type(objs[0])
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or any(
        type(o) is not model or o.pk is not None or o._state.db not in (None, DEFAULT_DB_ALIAS)
        for o in objs
    ):
        return None
    row = row_sql(connection, model, "insert_returning")
    if row is None or any(_expressions(o, row) for o in objs):
        return None
    key = (connection.alias, model, len(objs))
    sql = _MANY.get(key)
    if sql is None:
        head, _, returning = row.sql.rpartition(" RETURNING ")
        columns, _, one = head.rpartition(" VALUES ")
        sql = _MANY[key] = f"{columns} VALUES {', '.join([one] * len(objs))} RETURNING {returning}"
    params: list[Any] = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        params += row_values(obj, row, "insert_returning", connection)
    return sql, params


def rows_inserted(objs: Sequence[Model], ids: Sequence[Any]) -> None:
    """Mark rows written by :func:`new_rows`' statement as saved, with their ids."""
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


def insert_rows(objs: Sequence[Model], *, first: tuple[str, list[Any]] | None = None) -> bool:
    """Insert new rows of one model without ids in one ``INSERT … VALUES (…), (…) RETURNING
    id`` built once per row count, setting their ids, and return True — what ``bulk_create``
    does, without its compiling; or return False (nothing written) where only ``bulk_create``
    can (:func:`new_rows`): the caller then calls it. No signals, as ``bulk_create`` sends
    none. ``first``: a data-modifying statement (SQL, values) run in the same statement before
    the rows, as a ``WITH`` query (a deadline's close before the next one's opening); with no
    rows to insert, nothing is written and False is returned."""
    if not objs:
        return first is None
    statement = new_rows(objs)
    if statement is None:
        return False
    sql, params = statement
    if first is not None:
        sql, params = f'WITH "first" AS ({first[0]}) {sql}', [*first[1], *params]
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.mark_for_rollback_on_error(DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        cursor.execute(sql, params)
        # PostgreSQL returns the ids in the order of the VALUES rows (bulk_create relies on it)
        rows_inserted(objs, [r[0] for r in cursor.fetchall()])
    return True


_CHARACTER_TYPE = re.compile(r"(?:varchar|character varying|char|character)(?:\(\d+\))?", re.I)


def column_casts(fields: Sequence[Field], connection: Any) -> list[str]:
    """Each field's column type for ``CAST(%s AS …)``, a character column's as ``text`` (an
    array's as ``text[]``): an ``INSERT … SELECT`` does not infer its parameters' types from the
    columns, and a value cast to ``varchar(n)`` would be cut short silently where an ``INSERT``
    refuses it."""
    casts = []
    for f in fields:
        db_type = f.db_type(connection)
        if db_type is None:
            raise ValueError(f"{f} has no column")
        base, bracket, dims = db_type.partition("[")
        casts.append(f"text{bracket}{dims}" if _CHARACTER_TYPE.fullmatch(base.strip()) else db_type)
    return casts


def _history_user_ok(history_model: type[Model], user: Any) -> bool:
    """A history user simple-history would take as it is: none, or a saved user."""
    if user is None:
        return True
    try:
        user_model = history_model._meta.get_field("history_user").related_model
    except FieldDoesNotExist:  # a history user kept as an id only (history_user_id_field)
        return False
    return isinstance(user_model, type) and isinstance(user, user_model) and user.pk is not None


@dataclass(frozen=True)
class Combined:
    """A row's write and its history row in one statement; ``own`` are the history columns sent
    as parameters (date, type, user, reason), the others are copied from the row written."""

    sql: str
    own: tuple[int, ...]


def _combined_sql(
    connection: Any, model: type[Model], mode: Mode, row: RowSql, history: RowSql
) -> Combined:
    """The statement the module's docstring shows: the row's write returning the columns its
    history row records, the history row copying them. No row updated (it is gone): no history
    row and no result."""
    qn = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns = {f.attname: f.column for f in meta.local_concrete_fields if not f.generated}
    history_model = history.fields[0].model
    tracked = {f.attname for f in history_model.tracked_fields}  # type: ignore[attr-defined]
    history_pk = history_model._meta.pk
    assert history_pk is not None
    copied = [f for f in history.fields if f.attname in tracked and f.attname in columns]
    own = tuple(i for i, f in enumerate(history.fields) if f not in copied)
    casts = column_casts([history.fields[i] for i in own], connection)
    values = iter(f"CAST(%s AS {t})" for t in casts)
    select = ", ".join(
        f'"saved".{qn(columns[f.attname])}' if f in copied else next(values) for f in history.fields
    )
    write = row.sql.rpartition(" RETURNING ")[0] if mode == "insert_returning" else row.sql
    returning = ", ".join(qn(columns[f.attname]) for f in copied)
    sql = (
        f'WITH "saved" AS ({write} RETURNING {returning}) '
        f"INSERT INTO {qn(history_model._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in history.fields)}) "
        f'SELECT {select} FROM "saved" '
        f"RETURNING {qn(history_pk.column)}, {qn(columns[pk.attname])}"
    )
    return Combined(sql, own)


def save_with_history(obj: Model, **kwargs: Any) -> None:
    """``obj.save(**kwargs)`` with its history row. On PostgreSQL, an existing row's update (no
    arguments), a new row whose id was reserved (``force_insert=True``) or a new row without an
    id (its id is the database's, as for ``save()``), and its history row, are one statement.
    Set ``_history_user`` and ``_change_reason`` first, as for ``save()``."""
    model = type(obj)
    history_model = history_model_of(model)
    mode = _mode(obj, kwargs, reserved_id=obj.pk is not None)
    if (
        mode is None
        or history_model is None
        or history_model._history_m2m_fields  # type: ignore[attr-defined]
        or getattr(history_model, "history_relation", None) is not None
        or not hasattr(obj, "_history_user")  # simple-history would look for the request's user
        or hasattr(obj, "skip_history_when_saving")
        or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
        or type(obj).save is not Model.save  # a model's own save() does more than write
        # the history row is the row as written plus its own columns: simple-history's, a
        # database id (no UUID), a user or none, and no receiver that might change the history
        # instance before it is written — anything else, simple-history writes
        or not isinstance(history_model._meta.pk, AutoFieldMixin)
        or pre_create_historical_record.has_listeners(history_model)
        or post_create_historical_record.has_listeners(history_model)
        or not _history_user_ok(history_model, obj._history_user)  # type: ignore[attr-defined]
    ):
        obj.save(**kwargs)
        return
    connection = connections[DEFAULT_DB_ALIAS]
    inserting = mode != "update"
    row = row_sql(connection, model, mode)
    history = row_sql(connection, history_model, "insert_returning")
    if row is None or history is None or _expressions(obj, row):
        obj.save(**kwargs)
        return
    combined = _COMBINED.get((connection.alias, model, mode))
    if combined is None:
        combined = _COMBINED[(connection.alias, model, mode)] = _combined_sql(
            connection, model, mode, row, history
        )
    if {history.fields[i].attname for i in combined.own} != _HISTORY_OWN:
        obj.save(**kwargs)  # extra history columns: simple-history (and its receivers) fill them
        return
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    signals.pre_save.send(
        sender=model, instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
    )
    params = row_values(obj, row, mode, connection)

    # the history row simple-history's create_historical_record writes: the row as written
    # (copied in the statement) and its own columns
    own = [history.fields[i] for i in combined.own]
    user = obj._history_user  # type: ignore[attr-defined]
    values = {
        "history_date": getattr(obj, "_history_date", timezone.now()),
        "history_type": "+" if inserting else "~",
        "history_user_id": user.pk if user is not None else None,
        "history_change_reason": get_change_reason_from_object(obj),
    }
    params += [f.get_db_prep_save(values[f.attname], connection) for f in own]
    # the statement writes both rows or, when the update finds no row, neither; the error raised
    # then marks the caller's transaction for rollback, as save() does
    with transaction.atomic(using=DEFAULT_DB_ALIAS, savepoint=False), connection.cursor() as cursor:
        cursor.execute(combined.sql, params)
        written = cursor.fetchone()
        if written is None:
            raise DatabaseError(f"{model._meta.label} {obj.pk}: no row to save (it was deleted)")
    obj.pk = written[1]
    obj.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        _post_save(obj, created=inserting)
    finally:
        del obj.skip_history_when_saving  # type: ignore[attr-defined]
