"""``save_with_history`` (workflow_app/history_save.py): an existing row's update and its history
row are one statement on PostgreSQL, and leave exactly what ``save()`` and simple-history leave."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from tests.factories import CreditRecordFactory
from workflow_app.cases.transitions import case_next_id
from workflow_app.history_save import save_with_history
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db

# what differs between two rows saved the same way
_OWN = {"id", "history_id", "history_date", "external_id", "updated_at", "created_at", "title"}


def _change(record: CreditRecord, user, *, reason: str) -> None:
    record.note = "更正：罚款金额 3000 元"
    record.under_objection = True
    record.decision_date = datetime.date(2026, 1, 5)
    record._history_user = user
    record._change_reason = reason


def _row(model, pk) -> dict:
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k not in _OWN}


def _latest_history(record: CreditRecord) -> dict:
    row = record.history.order_by("-history_id").values().first()
    return {k: v for k, v in row.items() if k not in _OWN}


def test_same_row_and_history_as_save(company, samr, centre_user):
    mine, orm = (
        CreditRecordFactory(subject=company, department=samr),
        CreditRecordFactory(subject=company, department=samr),
    )
    before = mine.updated_at
    _change(mine, centre_user, reason="objection accepted")
    _change(orm, centre_user, reason="objection accepted")
    with CaptureQueriesContext(connection) as statements:
        save_with_history(mine)
    orm.save()
    # one statement on PostgreSQL (the update and the history row), save() and its row elsewhere
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    mine.refresh_from_db()
    assert mine.updated_at > before  # auto_now applied, as save() does
    assert _row(CreditRecord, mine.pk) == _row(CreditRecord, orm.pk)
    assert _latest_history(mine) == _latest_history(orm)
    latest = mine.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user_id, latest.history_change_reason) == (
        "~",
        centre_user.pk,
        "objection accepted",
    )
    assert latest.updated_at == mine.updated_at and latest.note == mine.note
    assert mine.history.count() == 2  # created, changed: simple-history wrote no second row


def test_signals_are_sent_as_save_sends_them(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    _change(record, centre_user, reason="signals")
    seen: list[tuple] = []

    def on_pre_save(sender, instance, **kw):
        seen.append(("pre_save", instance.pk, kw["raw"], kw["update_fields"]))

    def on_post_save(sender, instance, created, **kw):
        seen.append(("post_save", instance.pk, created, kw["update_fields"]))

    def on_history(sender, history_instance, **kw):
        seen.append((kw["signal"] is post_create_historical_record, history_instance.note))

    receivers = [
        (signals.pre_save, on_pre_save, CreditRecord),
        (signals.post_save, on_post_save, CreditRecord),
        (pre_create_historical_record, on_history, None),
        (post_create_historical_record, on_history, None),
    ]
    for signal, receiver, sender in receivers:
        signal.connect(receiver, sender=sender)
    try:
        save_with_history(record)
    finally:
        for signal, receiver, sender in receivers:
            signal.disconnect(receiver, sender=sender)
    assert seen == [
        ("pre_save", record.pk, False, None),
        (False, record.note),
        (True, record.note),
        ("post_save", record.pk, False, None),
    ]
    assert not hasattr(record, "skip_history_when_saving")


def test_a_row_gone_is_an_error_and_leaves_no_history(company, samr, centre_user):
    if connection.vendor != "postgresql":
        pytest.skip("save() inserts a missing row again; the one-statement path is PostgreSQL's")
    record = CreditRecordFactory(subject=company, department=samr)
    _change(record, centre_user, reason="gone")
    history_rows = CreditRecord.history.count()
    with pytest.raises(DatabaseError, match="no row to save"), transaction.atomic():
        CreditRecord.objects.filter(pk=record.pk).delete()
        save_with_history(record)
    assert CreditRecord.history.count() == history_rows


def test_a_new_row_with_a_reserved_id_is_one_statement_too(company, samr, centre_user):
    """What a filing does: the case's id reserved (``case_next_id``), then inserted."""

    def new_row():
        row = CreditRecordFactory.build(subject=company, department=samr, note="新记录")
        row.pk = case_next_id(CreditRecord)  # SQLite: read, not reserved — insert it next
        row._history_user, row._change_reason = centre_user, "filed"
        return row

    mine = new_row()
    with CaptureQueriesContext(connection) as statements:
        save_with_history(mine, force_insert=True)
    orm = new_row()
    orm.save(force_insert=True)
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert not mine._state.adding and mine.created_at is not None  # auto_now_add applied
    assert _row(CreditRecord, mine.pk) == _row(CreditRecord, orm.pk)
    assert _latest_history(mine) == _latest_history(orm)
    entry = mine.history.get()
    assert (entry.history_type, entry.history_user_id, entry.history_change_reason) == (
        "+",
        centre_user.pk,
        "filed",
    )
    assert entry.created_at == mine.created_at


def test_new_rows_and_partial_saves_are_save_itself(company, samr, centre_user):
    record = CreditRecordFactory.build(subject=company, department=samr)
    record._history_user, record._change_reason = centre_user, "imported"
    save_with_history(record)
    assert record.history.get().history_type == "+"
    _change(record, centre_user, reason="note only")
    with CaptureQueriesContext(connection) as statements:
        save_with_history(record, update_fields=["note"])
    assert statements[0]["sql"].startswith('UPDATE "registry_creditrecord" SET "note"')
    assert not CreditRecord.objects.get(pk=record.pk).under_objection  # only the note was saved
    assert record.history.count() == 2


def test_the_statement_is_built_once_and_expressions_go_to_save(company, samr, centre_user):
    first, second = (CreditRecordFactory(subject=company, department=samr) for _ in range(2))
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    for record in (first, second):
        _change(record, centre_user, reason="same shape")
        with connection.execute_wrapper(spy):
            save_with_history(record)
    # the same text each time, every value a parameter: PostgreSQL prepares it after a few runs
    per_save = 1 if connection.vendor == "postgresql" else 2
    assert len(seen) == 2 * per_save and seen[:per_save] == seen[per_save:]
    # an F() expression is the ORM's to compile (save() itself), and simple-history refuses it
    # in a history row, as it does for save()
    first.version = F("version") + 1
    with pytest.raises(ValueError, match="can only be used to update"), transaction.atomic():
        save_with_history(first)


def test_a_row_loaded_in_part_is_save_itself(company, samr, centre_user):
    """``save()`` of an instance with deferred fields writes only the loaded ones."""
    record = CreditRecordFactory(subject=company, department=samr)
    partial = CreditRecord.objects.only("id", "note").get(pk=record.pk)
    partial.note = "只改备注"
    partial._history_user, partial._change_reason = centre_user, "note"
    with CaptureQueriesContext(connection) as statements:
        save_with_history(partial)
    assert statements[0]["sql"].startswith('UPDATE "registry_creditrecord" SET "note"')
    assert CreditRecord.objects.get(pk=record.pk).note == "只改备注"
