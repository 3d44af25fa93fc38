"""Saving a changed row and its history row in one statement (issue 10: speed).

Every transition saves its case and often a credit record, every filing inserts a case, and
django-simple-history writes a history row after each save: two round trips per row, four of
the twenty in an objection's ``accept``. On PostgreSQL :func:`save_with_history` sends both as one
statement — the row's ``UPDATE`` (or the ``INSERT`` of a new row whose id was reserved:
``case_next_id``) in a data-modifying ``WITH`` and the history row's ``INSERT`` after it::

    WITH "saved" AS (UPDATE … WHERE id = … RETURNING 1)
    INSERT INTO "…_historical…" (…) VALUES (…) RETURNING history_id, (SELECT count(*) FROM "saved")

The values are those ``Model.save()`` writes (every concrete field, prepared by the field's
``pre_save`` — ``auto_now`` — and ``get_db_prep_save``, as the ORM's compilers prepare them; the
SQL is built once per model, every value a parameter) and the history row is the one simple-history builds (its user, change
reason, date, type ``~`` or ``+``, and its ``pre/post_create_historical_record`` signals); ``pre_save`` and
``post_save`` are sent as ``save()`` sends them (simple-history's own receiver is told to skip
the row it would write a second time). If no row was updated (it is gone) the statement is an
error and the transaction rolls back, history row included. Anything else — a new row without
an id, ``update_fields``, another database — is ``save()`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Field, Model, signals
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from simple_history.utils import get_change_reason_from_object

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
class _Statement:
    sql: str
    row_fields: tuple[Field, ...]  # the row's values in this order (an update: then its id)
    history_fields: tuple[Field, ...]


# per (database alias, model, inserting): the statement's SQL is the same on every call, so it is
# built once and PostgreSQL's prepared statements serve it (settings: DB_PREPARE_THRESHOLD)
_STATEMENTS: dict[tuple[str, type[Model], bool], _Statement | None] = {}


def _statement(connection: Any, model: type[Model], history_model: type[Model], inserting: bool):
    """The row's INSERT or UPDATE and the history row's INSERT, with a placeholder for every
    value (None: a field with a placeholder of its own, which only the ORM's compiler knows)."""
    key = (connection.alias, model, inserting)
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    qn = connection.ops.quote_name
    meta, history_meta = model._meta, history_model._meta
    concrete = [f for f in meta.local_concrete_fields if not f.generated]
    history_fields = tuple(
        f for f in history_meta.local_concrete_fields if f is not history_meta.auto_field
    )
    if inserting:
        row_fields = tuple(concrete)
        row_sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in row_fields)}) "
            f"VALUES ({', '.join(['%s'] * len(row_fields))})"
        )
    else:
        row_fields = tuple(f for f in concrete if not f.primary_key)
        row_sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in row_fields)}"
            f" WHERE {qn(meta.pk.column)} = %s"  # type: ignore[union-attr]
        )
    history_sql = (
        f"INSERT INTO {qn(history_meta.db_table)} "
        f"({', '.join(qn(f.column) for f in history_fields)}) "
        f"VALUES ({', '.join(['%s'] * len(history_fields))}) "
        f"RETURNING {qn(history_meta.pk.column)}"  # type: ignore[union-attr]
    )
    plain = not any(hasattr(f, "get_placeholder") for f in (*row_fields, *history_fields))
    statement = _STATEMENTS[key] = (
        _Statement(
            f'WITH "saved" AS ({row_sql} RETURNING 1) {history_sql}, '
            '(SELECT count(*) FROM "saved")',
            row_fields,
            history_fields,
        )
        if plain
        else None
    )
    return statement


def save_with_history(obj: Model, **kwargs: Any) -> None:
    """``obj.save(**kwargs)`` with its history row. On PostgreSQL, an existing row's update (no
    arguments) or a new row whose id was reserved (``force_insert=True``), and its history row,
    are one statement. Set ``_history_user`` and ``_change_reason`` first, as for ``save()``."""
    model = type(obj)
    connection = connections[DEFAULT_DB_ALIAS]
    history_model = history_model_of(model)
    inserting = kwargs == {"force_insert": True}
    if (
        (kwargs and not inserting)
        or inserting != obj._state.adding
        or obj.pk is None
        or connection.vendor != "postgresql"
        or history_model is None
        or history_model._history_m2m_fields  # type: ignore[attr-defined]
        or getattr(history_model, "history_relation", None) is not None
        or not hasattr(obj, "_history_user")  # simple-history would look for the request's user
        or hasattr(obj, "skip_history_when_saving")
        or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
        or obj.get_deferred_fields()  # save() writes only the fields loaded
    ):
        obj.save(**kwargs)
        return
    statement = _statement(connection, model, history_model, inserting)
    if statement is None or any(
        hasattr(getattr(obj, f.attname), "resolve_expression") for f in statement.row_fields
    ):  # an expression (F(), a function) is the ORM compiler's to write
        obj.save(**kwargs)
        return
    meta = model._meta
    signals.pre_save.send(
        sender=model, instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
    )
    # the values Model.save() writes: each field's pre_save (auto_now, auto_now_add) and its
    # database value, as the ORM's INSERT and UPDATE compilers prepare them
    params = [
        f.get_db_prep_save(f.pre_save(obj, inserting), connection) for f in statement.row_fields
    ]
    if not inserting:
        params.append(meta.pk.get_db_prep_value(obj.pk, connection))  # type: ignore[union-attr]

    # the history row simple-history's create_historical_record writes
    history_type = "+" if inserting else "~"
    history_date = getattr(obj, "_history_date", timezone.now())
    history_user = obj._history_user  # type: ignore[attr-defined]
    reason = get_change_reason_from_object(obj)
    entry = history_model(
        history_date=history_date,
        history_type=history_type,
        history_user=history_user,
        history_change_reason=reason,
        **{
            field.attname: getattr(obj, field.attname)
            for field in history_model.tracked_fields  # type: ignore[attr-defined]
        },
    )
    about = {  # what simple-history's signals around a history row carry
        "instance": obj,
        "history_instance": entry,
        "history_date": history_date,
        "history_user": history_user,
        "history_change_reason": reason,
        "using": DEFAULT_DB_ALIAS,
    }
    pre_create_historical_record.send(sender=history_model, **about)
    params += [
        f.get_db_prep_save(f.pre_save(entry, True), connection) for f in statement.history_fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        history_id, saved = cursor.fetchone()
    if saved != 1:
        raise DatabaseError(f"{meta.label} {obj.pk}: no row to save (it was deleted)")
    history_meta = history_model._meta
    setattr(entry, history_meta.pk.attname, history_id)  # type: ignore[union-attr]
    for done in (entry, obj):
        done._state.adding = False
        done._state.db = DEFAULT_DB_ALIAS
    post_create_historical_record.send(sender=history_model, **about)
    obj.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        signals.post_save.send(
            sender=model,
            instance=obj,
            created=inserting,
            update_fields=None,
            raw=False,
            using=DEFAULT_DB_ALIAS,
        )
    finally:
        del obj.skip_history_when_saving  # type: ignore[attr-defined]
