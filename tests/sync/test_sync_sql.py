"""On PostgreSQL a change's synchronisation rows are built by one INSERT … SELECT
(sync.services._insert_events_sql); elsewhere in Python (_insert_events, event_payload). Both
must write the same rows: the same payload (keys, values, a natural person's identifier masked,
a missing publicity end as null, the case as given), one event id per record shared by its
targets' rows, the same columns."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sync.models import SyncEvent, SyncTarget
from sync.services import (
    _ENABLED_TARGETS,
    Change,
    _insert_events,
    _insert_events_sql,
    sync_enqueue,
)
from tests.factories import CreditRecordFactory, SubjectFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's"),
]

COLUMNS = (
    "target_id",
    "event",
    "record_id",
    "department_id",
    "case_kind",
    "case_id",
    "status",
    "attempts",
    "next_attempt_at",
    "due_at",
    "delivered_at",
    "escalated_at",
    "last_error",
)


def _rows(ids: list[int]) -> list[dict]:
    rows = {e.pk: e for e in SyncEvent.objects.filter(pk__in=ids)}
    assert len(rows) == len(ids)
    return [rows[i] for i in ids]


@pytest.mark.parametrize(
    "case",
    [
        None,
        {
            "kind": "repair",
            "id": 7,
            "reference": "XF2026000007",
            "label": gettext_lazy("信用修复"),
            "decided": datetime.date(2026, 12, 7),
            "fee": Decimal("12.50"),
        },
    ],
)
def test_the_database_writes_the_rows_python_writes(case):
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/a")
    SyncTarget.objects.create(name="国家平台", url="http://127.0.0.1:9/b")  # first by name
    targets = _ENABLED_TARGETS()  # as sync_enqueue reads them (by name, not by id)
    records = [
        CreditRecordFactory(),
        CreditRecordFactory(subject=SubjectFactory(natural=True)),
        CreditRecordFactory(publicity_end=None, title='引号"与\\反斜杠'),
    ]
    now = timezone.now()
    announced = Change(
        change="corrected",
        occurred_at=timezone.localtime(now).isoformat(),
        now=now,
        due=now + datetime.timedelta(days=3),
        case=case,
    )
    by_python = _rows(_insert_events(records, targets, announced))
    by_sql = _rows(_insert_events_sql(records, targets, announced))
    assert len(by_sql) == len(by_python) == 6
    keys = set()
    for mine, theirs in zip(by_sql, by_python, strict=True):
        assert {c: getattr(mine, c) for c in COLUMNS} == {c: getattr(theirs, c) for c in COLUMNS}
        assert mine.created_at == now  # the change's moment (Python's rows: their write's)
        assert re.fullmatch(r"[0-9a-f]{32}", mine.idempotency_key)
        assert mine.payload["event_id"] == mine.idempotency_key
        keys.add(mine.idempotency_key)
        strip = lambda p: {k: v for k, v in p.items() if k != "event_id"}  # noqa: E731
        assert strip(mine.payload) == strip(theirs.payload)
    assert len(keys) == 3  # one per record, shared by both targets' rows
    person = by_sql[2].payload["record"]["subject"]
    assert person["kind"] == "natural_person" and "*" in person["identifier"]
    assert by_sql[4].payload["record"]["publicity_end"] is None


def test_a_change_goes_through_the_database_path_with_its_delivery_queued(
    monkeypatch, django_capture_on_commit_callbacks
):
    from sync.tasks import deliver_sync_events

    target = SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/a")
    queued: list[int] = []
    monkeypatch.setattr(
        deliver_sync_events, "apply_async", lambda args, **kw: queued.extend(args[0])
    )
    monkeypatch.setattr("sync.services._insert_events", None)  # the Python path is not taken
    record = CreditRecordFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_enqueue(records=[record, record], change="repaired") == 2
    rows = list(SyncEvent.objects.order_by("id"))
    assert sorted(queued) == [r.pk for r in rows]
    assert {r.target_id for r in rows} == {target.pk}
    assert [r.payload["event"] for r in rows] == ["record.repaired"] * 2
    assert rows[0].idempotency_key != rows[1].idempotency_key  # one event per change given
