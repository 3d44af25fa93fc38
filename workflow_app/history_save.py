"""Saving a changed row and its history row in one statement (issue 10: speed).

Every transition saves its case and often a credit record, every filing inserts a case, and
django-simple-history writes a history row after each save: two round trips per row, four of
the twenty in an objection's ``accept``. On PostgreSQL :func:`save_with_history` sends both as one
statement — the row's ``UPDATE`` (or the ``INSERT`` of a new row whose id was reserved:
``case_next_id``) in a data-modifying ``WITH`` and the history row's ``INSERT`` after it::

    WITH "saved" AS (UPDATE … WHERE id = … RETURNING 1)
    INSERT INTO "…_historical…" (…) VALUES (…) RETURNING history_id, (SELECT count(*) FROM "saved")

The values are those ``Model.save()`` writes (every concrete field, ``auto_now`` applied by the
field's ``pre_save``) and the history row is the one simple-history builds (its user, change
reason, date, type ``~`` or ``+``, and its ``pre/post_create_historical_record`` signals); ``pre_save`` and
``post_save`` are sent as ``save()`` sends them (simple-history's own receiver is told to skip
the row it would write a second time). If no row was updated (it is gone) the statement is an
error and the transaction rolls back, history row included. Anything else — a new row without
an id, ``update_fields``, another database — is ``save()`` itself.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model, signals
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from simple_history.utils import get_change_reason_from_object


def history_model_of(model: type[Model]) -> type[Model] | None:
    """The model's history model, if simple-history tracks it."""
    name = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, name).model if name else None


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
    ):
        obj.save(**kwargs)
        return
    meta = model._meta
    signals.pre_save.send(
        sender=model, instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
    )
    if inserting:  # as Model._do_insert: every concrete column, pre_save(add=True) by the compiler
        insert_row = InsertQuery(model)
        insert_row.insert_values([f for f in meta.local_concrete_fields if not f.generated], [obj])
        [(row_sql, row_params)] = insert_row.get_compiler(DEFAULT_DB_ALIAS).as_sql()
    else:  # as Model._do_update and QuerySet._update
        values = [
            (field, None, field.pre_save(obj, False))
            for field in meta.local_concrete_fields
            if not field.primary_key and not field.generated
        ]
        update = model._base_manager.filter(pk=obj.pk).query.chain(UpdateQuery)
        update.add_update_fields(values)  # type: ignore[attr-defined]
        update.annotations = {}
        row_sql, row_params = update.get_compiler(DEFAULT_DB_ALIAS).as_sql()

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
    pre_create_historical_record.send(
        sender=history_model,
        instance=obj,
        history_date=history_date,
        history_user=history_user,
        history_change_reason=reason,
        history_instance=entry,
        using=DEFAULT_DB_ALIAS,
    )
    history_meta = history_model._meta
    fields = [f for f in history_meta.local_concrete_fields if f is not history_meta.auto_field]
    insert = InsertQuery(history_model)
    insert.insert_values(fields, [entry])
    compiler = insert.get_compiler(DEFAULT_DB_ALIAS)
    compiler.returning_fields = [history_meta.pk]
    [(insert_sql, insert_params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH "saved" AS ({row_sql} RETURNING 1) {insert_sql}, (SELECT count(*) FROM "saved")',
            (*row_params, *insert_params),
        )
        history_id, saved = cursor.fetchone()
    if saved != 1:
        raise DatabaseError(f"{meta.label} {obj.pk}: no row to save (it was deleted)")
    setattr(entry, history_meta.pk.attname, history_id)
    for done in (entry, obj):
        done._state.adding = False
        done._state.db = DEFAULT_DB_ALIAS
    post_create_historical_record.send(
        sender=history_model,
        instance=obj,
        history_instance=entry,
        history_date=history_date,
        history_user=history_user,
        history_change_reason=reason,
        using=DEFAULT_DB_ALIAS,
    )
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
