"""Bulk inserts with history (COPY on PostgreSQL, simple-history elsewhere) keep every guarantee
of ``bulk_create_with_history``: ids set, timestamps filled, one ``+`` history row per row with
the user and reason, a unique violation raised as Django's ``IntegrityError``."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model, signals

from tests.factories import SubjectFactory, UserFactory
from workflow_app.registry.bulk import (
    _plain_attributes,
    insert_new_with_history,
    insert_with_history,
    new_instances,
)
from workflow_app.registry.models import CreditRecord, Subject


def _record(subject, department, external_id):
    return CreditRecord(
        subject=subject,
        department=department,
        external_id=external_id,
        version=1,
        category="penalty",
        nature="dishonesty",
        severity="general",
        title=f"处罚决定 {external_id}",
        content="内容",
        decision_date="2026-03-02",
        publicity_start="2026-03-02",
        publicity_end=None,
    )


def test_rows_and_history_are_written_with_ids(db, samr):
    user = UserFactory(username="importer", role="department", department=samr)
    subject = SubjectFactory()
    rows = insert_with_history(
        [_record(subject, samr, f"B-{i}") for i in range(3)],
        CreditRecord,
        user=user,
        reason="record import (SAMR)",
    )
    assert all(r.pk for r in rows)
    stored = {r.pk: r for r in CreditRecord.objects.filter(pk__in=[r.pk for r in rows])}
    assert set(stored) == {r.pk for r in rows}
    for row in rows:
        db_row = stored[row.pk]
        assert db_row.external_id == row.external_id and db_row.created_at is not None
        (history,) = db_row.history.all()
        assert history.history_type == "+"
        assert history.history_user_id == user.pk
        assert history.history_change_reason == "record import (SAMR)"
        assert history.title == row.title and history.subject_id == subject.pk


def test_subjects_too(db):
    subjects = insert_with_history(
        [
            Subject(kind="legal_person", name="甲", identifier="K1", identifier_display="K1"),
            Subject(kind="legal_person", name="乙", identifier="K2", identifier_display="K2"),
        ],
        Subject,
        user=None,
        reason="subject registered by record import",
    )
    assert Subject.objects.filter(pk__in=[s.pk for s in subjects]).count() == 2
    assert Subject.history.filter(identifier__in=["K1", "K2"], history_type="+").count() == 2


def test_a_unique_violation_is_an_integrity_error_and_leaves_nothing(db, samr):
    subject = SubjectFactory()
    insert_with_history([_record(subject, samr, "DUP")], CreditRecord, user=None, reason="first")
    before = (CreditRecord.objects.count(), CreditRecord.history.count())
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_with_history(
            [_record(subject, samr, "NEW"), _record(subject, samr, "DUP")],
            CreditRecord,
            user=None,
            reason="second",
        )
    assert (CreditRecord.objects.count(), CreditRecord.history.count()) == before


def test_where_in_finds_exactly_the_listed_values(db, samr):
    """One array parameter on PostgreSQL, chunks of ``IN`` elsewhere: the same rows either way,
    more values than SQLite allows variables included, quotes and commas kept as text."""
    from workflow_app.registry.bulk import where_in

    subject = SubjectFactory()
    CreditRecord.objects.bulk_create(
        [_record(subject, samr, f"W-{i}") for i in range(1200)]
        + [_record(subject, samr, "odd 'quote', {brace}")]
    )
    wanted = [f"W-{i}" for i in range(0, 1200, 2)] + ["odd 'quote', {brace}", "W-none"]
    found = where_in(CreditRecord.objects.filter(department=samr), "external_id", wanted)
    assert sorted(r.external_id for r in found) == sorted(wanted[:-1])
    assert where_in(CreditRecord.objects.all(), "external_id", []) == []


def test_where_in_takes_integer_and_foreign_key_columns(db, samr):
    from workflow_app.registry.bulk import where_in

    subjects = [SubjectFactory() for _ in range(3)]
    rows = CreditRecord.objects.bulk_create(
        [_record(s, samr, f"F-{i}") for i, s in enumerate(subjects)]
    )
    by_id = where_in(CreditRecord.objects.all(), "id", [rows[0].pk, rows[2].pk, 10**12])
    assert sorted(r.pk for r in by_id) == sorted([rows[0].pk, rows[2].pk])
    by_subject = where_in(CreditRecord.objects.all(), "subject_id", {subjects[1].pk})
    assert [r.external_id for r in by_subject] == ["F-1"]


def test_values_of_other_types_are_stored_as_save_would_store_them(db, samr):
    """The binary COPY takes each column's own Python type; a date given as text or as a
    datetime, a number given as text, is converted by the field first — the stored rows and
    history equal those of simple-history's own bulk path given the same objects."""
    import datetime

    from simple_history.utils import bulk_create_with_history

    subject = SubjectFactory()

    def odd(external_id):
        row = _record(subject, samr, external_id)
        row.decision_date = datetime.datetime(2026, 3, 2, 9, 30)  # a datetime in a date field
        row.publicity_start = "2026-03-03"
        row.publicity_end = datetime.date(2027, 3, 2)
        row.version = "2"  # text in an integer field
        return row

    ours = insert_with_history([odd("T-ours")], CreditRecord, user=None, reason="r")[0]
    (theirs,) = bulk_create_with_history(
        [odd("T-theirs")], CreditRecord, default_user=None, default_change_reason="r"
    )
    skip = {"id", "external_id", "title", "created_at", "updated_at"}

    def stored(pk):
        values = CreditRecord.objects.filter(pk=pk).values().get()
        return {k: v for k, v in values.items() if k not in skip}

    assert stored(ours.pk) == stored(theirs.pk)
    assert stored(ours.pk)["decision_date"] == datetime.date(2026, 3, 2)
    assert stored(ours.pk)["version"] == 2

    def history(pk):
        values = CreditRecord.history.filter(id=pk).values().get()
        return {k: v for k, v in values.items() if k not in skip | {"history_id", "history_date"}}

    assert history(ours.pk) == history(theirs.pk)


def test_insert_values_writes_rows_as_given_and_returns_their_ids_in_order(db):
    """Outbox rows from dicts (PostgreSQL: a binary COPY, JSON included; elsewhere bulk_create):
    the ids in the order given, defaults and auto_now filled, JSON stored as the field's encoder
    writes it — a date, a decimal, a lazy text as text, non-ASCII text as it is."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone
    from django.utils.translation import gettext_lazy

    from sync.models import SyncEvent, SyncTarget
    from workflow_app.registry.bulk import insert_values

    target = SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    now = timezone.now()
    payloads = [
        {"n": i, "title": f"行政处罚 {i}", "on": datetime.date(2026, 3, 2), "fine": Decimal("1.50")}
        for i in range(3)
    ]
    payloads[1]["label"] = gettext_lazy("同步事件")
    payloads[2]["nested"] = {"list": [1, None, True, "甲"], 7: "key as text"}
    payloads[2]["big"] = 2**70  # beyond orjson's 64 bits: json.dumps writes it
    ids = insert_values(
        SyncEvent,
        [
            {
                "target_id": target.pk,
                "event": "record.created",
                "idempotency_key": f"k{i}",
                "payload": payload,
                "next_attempt_at": now,
                "due_at": now,
            }
            for i, payload in enumerate(payloads)
        ],
    )
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = {row.pk: row for row in SyncEvent.objects.filter(pk__in=ids)}
    for i, pk in enumerate(ids):
        row = rows[pk]
        assert row.idempotency_key == f"k{i}"
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, "")
        assert row.created_at is not None and row.delivered_at is None
    assert rows[ids[0]].payload == {
        "n": 0,
        "title": "行政处罚 0",
        "on": "2026-03-02",
        "fine": "1.50",
    }
    assert rows[ids[1]].payload["label"] == "同步事件"
    assert rows[ids[2]].payload["nested"] == {"list": [1, None, True, "甲"], "7": "key as text"}
    assert rows[ids[2]].payload["big"] == 2**70
    assert insert_values(SyncEvent, []) == []
    with pytest.raises(TypeError, match="no field"):
        insert_values(SyncEvent, [{"target_id": target.pk, "nonsense": 1}])


def test_insert_values_refuses_what_json_cannot_hold_and_writes_nothing(db):
    """A value neither JSON nor the field's encoder can write fails before anything is stored
    (as save() would)."""
    from django.utils import timezone

    from sync.models import SyncEvent, SyncTarget
    from workflow_app.registry.bulk import insert_values

    target = SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    now = timezone.now()
    row = {"target_id": target.pk, "event": "e", "next_attempt_at": now, "due_at": now}
    with pytest.raises(TypeError), transaction.atomic():
        insert_values(SyncEvent, [{**row, "idempotency_key": "a", "payload": {"x": object()}}])
    assert not SyncEvent.objects.exists()


def _values(subject, department, external_id):
    return {
        "subject_id": subject.pk,
        "department_id": department.pk,
        "external_id": external_id,
        "version": 1,
        "category": "penalty",
        "nature": "dishonesty",
        "severity": "general",
        "title": f"处罚决定 {external_id}",
        "content": "内容",
        "decision_date": datetime.date(2026, 3, 2),
        "publicity_start": datetime.date(2026, 3, 2),
        "status": "published",
    }


def test_new_rows_from_values_are_what_instances_would_give(db, samr):
    """``insert_new_with_history`` (an import's new records): rows, history and the instances
    handed back are those of ``insert_with_history(new_instances(…))``."""
    user = UserFactory(username="importer2", role="department", department=samr)
    subject = SubjectFactory()
    objs = insert_new_with_history(
        CreditRecord,
        [_values(subject, samr, f"V-{i}") for i in range(3)],
        user=user,
        reason="record import (SAMR)",
    )
    expected = insert_with_history(
        new_instances(CreditRecord, [_values(subject, samr, f"W-{i}") for i in range(3)]),
        CreditRecord,
        user=user,
        reason="record import (SAMR)",
    )
    fields = [f.attname for f in CreditRecord._meta.concrete_fields]
    changing = {"id", "external_id", "title", "created_at", "updated_at"}
    for obj, other in zip(objs, expected, strict=True):
        assert not obj._state.adding and obj._state.db == other._state.db
        assert {f: getattr(obj, f) for f in fields if f not in changing} == {
            f: getattr(other, f) for f in fields if f not in changing
        }
        stored = CreditRecord.objects.get(pk=obj.pk)
        # what was handed back is what is stored, and behaves as any instance read
        assert {f: getattr(obj, f) for f in fields} == {f: getattr(stored, f) for f in fields}
        assert obj == stored and obj.subject == subject
        assert obj.get_status_display() == stored.get_status_display()
        (history,) = stored.history.all()
        assert (history.history_type, history.history_user_id) == ("+", user.pk)
        assert history.history_change_reason == "record import (SAMR)"
        assert history.title == obj.title
    assert [o.pk for o in objs] == sorted(o.pk for o in objs) < [o.pk for o in expected]
    objs[0].title = "改过的标题"
    objs[0].save()  # an UPDATE of the stored row, not a second row
    assert CreditRecord.objects.get(pk=objs[0].pk).title == "改过的标题"
    assert CreditRecord.objects.filter(external_id="V-0").count() == 1


def test_new_rows_of_a_model_with_an_init_receiver_are_made_by_init(db, samr):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    assert _plain_attributes(CreditRecord)
    signals.post_init.connect(receiver, sender=CreditRecord)
    try:
        assert not _plain_attributes(CreditRecord)
        objs = insert_new_with_history(
            CreditRecord, [_values(SubjectFactory(), samr, "I-1")], user=None, reason="r"
        )
    finally:
        signals.post_init.disconnect(receiver, sender=CreditRecord)
    assert seen == objs and objs[0].pk


def test_new_rows_of_a_model_with_an_init_of_its_own_are_made_by_it(monkeypatch):
    def own_init(self, *args, **kwargs):
        Model.__init__(self, *args, **kwargs)

    monkeypatch.setattr(CreditRecord, "__init__", own_init)
    assert not _plain_attributes(CreditRecord)
