from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction, close_old_connections
from django.db.models import signals

from tests.factories import CreditRecordFactory
from workflow_app.history_save import save_with_history
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def _prep(r, user, reason="r"):
    r._history_user, r._change_reason = user, reason


def test_unsaved_related_is_refused_like_save(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    unsaved = CreditRecordFactory.build(subject=company, department=samr, external_id="zz-x")
    record.previous_version = unsaved
    _prep(record, centre_user)
    with pytest.raises(ValueError, match="unsaved related object"):
        save_with_history(record)


def test_related_saved_after_assignment_is_written(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    prev = CreditRecordFactory.build(subject=company, department=samr, external_id="zz-y")
    record.previous_version = prev  # assigned before it has an id
    prev.save()                     # then saved
    _prep(record, centre_user)
    save_with_history(record)
    assert CreditRecord.objects.get(pk=record.pk).previous_version_id == prev.pk
    assert record.history.order_by("-history_id").first().previous_version_id == prev.pk


@pytest.mark.django_db(transaction=True)
def test_gone_row_outside_atomic_leaves_no_history(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    pk = record.pk
    _prep(record, centre_user)
    before = CreditRecord.history.filter(id=pk).count()
    CreditRecord.objects.filter(pk=pk).delete()  # delete writes a '-' row
    after_delete = CreditRecord.history.filter(id=pk).count()
    with pytest.raises(DatabaseError):
        save_with_history(record)
    print("history rows: before", before, "after delete", after_delete,
          "after failed save", CreditRecord.history.filter(id=pk).count(),
          [h.history_type for h in CreditRecord.history.filter(id=pk).order_by("history_id")])
    assert CreditRecord.history.filter(id=pk).count() == after_delete


@pytest.mark.django_db(transaction=True)
def test_gone_row_caught_inside_atomic(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    pk = record.pk
    _prep(record, centre_user)
    CreditRecord.objects.filter(pk=pk).delete()
    after_delete = CreditRecord.history.filter(id=pk).count()
    try:
        with transaction.atomic():
            try:
                save_with_history(record)
            except DatabaseError:
                pass
    except Exception as e:
        print("atomic exit raised", type(e))
    print("after caught failure:", [h.history_type for h in CreditRecord.history.filter(id=pk).order_by("history_id")])
    assert CreditRecord.history.filter(id=pk).count() == after_delete


def test_prepared_with_nulls(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    print(connection.connection.prepare_threshold)
    for i in range(14):
        record.publicity_end = None if i % 2 else datetime.date(2027, 1, i + 1)
        record.note = "" if i % 3 else f"n{i}"
        _prep(record, centre_user if i % 2 else None, reason=None if i % 4 else "x")
        save_with_history(record)
        row = CreditRecord.objects.get(pk=record.pk)
        assert row.publicity_end == record.publicity_end and row.note == record.note
    with connection.cursor() as c:
        c.execute("select count(*) from pg_prepared_statements where statement like 'WITH \"saved\"%%'")
        print("prepared:", c.fetchone())
    h = list(record.history.order_by("history_id").values_list("history_user_id", "history_change_reason", "publicity_end"))
    print(h[-4:])


def test_post_save_receiver_resaving(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    calls = []
    def again(sender, instance, created, **kw):
        if not calls:
            calls.append(1)
            instance.note = "second"
            instance.save()
    signals.post_save.connect(again, sender=CreditRecord)
    try:
        _prep(record, centre_user)
        record.note = "first"
        save_with_history(record)
    finally:
        signals.post_save.disconnect(again, sender=CreditRecord)
    notes = list(record.history.order_by("history_id").values_list("note", flat=True))
    print("notes", notes)
    assert notes[-1] == "second"


def test_receivers_on_history_models():
    from django.apps import apps
    out = []
    for sig in (signals.pre_save, signals.post_save):
        for (rid, sid), ref in [(k, r) for k, r in sig.receivers]:
            out.append((sig is signals.post_save, rid, sid))
    hist = {id(m) for m in apps.get_models() if m.__name__.startswith("Historical")}
    print("receivers with no sender or a history sender:",
          [o for o in out if o[2] in hist or o[2] == id(None)])
    for sig in (signals.pre_save, signals.post_save):
        for key, ref in sig.receivers:
            r = ref() if callable(ref) else ref
            print(sig is signals.post_save, getattr(r, "__qualname__", r), getattr(r, "__module__", ""))
