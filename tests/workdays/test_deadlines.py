"""The deadline engine: opening, closing, reading, and recomputing provisional deadlines."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.workdays.conftest import local
from workflow_app.workdays.deadlines import (
    deadline_as_dict,
    deadline_close,
    deadline_open,
    deadline_recompute_provisional,
    deadline_set_assignee,
    deadlines_close_for_case,
    deadlines_for_case,
)
from workflow_app.workdays.models import CalendarDay, CalendarYear, Deadline
from workflow_app.workdays.services import CalendarEntry, calendar_load

pytestmark = pytest.mark.django_db


def open_deadline(**kwargs) -> Deadline:
    values = {
        "case_kind": "objection",
        "case_id": 7,
        "case_reference": "YY-2026-0007",
        "kind": "objection_verification",
        "start_at": local(2025, 9, 30, 16, 0),
        "amount": 10,
        "queue": "dept:SAMR",
    }
    values.update(kwargs)
    return deadline_open(**values)


def test_opened_deadline_stores_due_date_reminder_and_explanation():
    d = open_deadline()
    d.refresh_from_db()

    assert d.due_at == local(2025, 10, 21, 23, 59, 59)
    assert d.provisional is False
    assert d.status == "open"
    # Reminders start when two working days remain (20 and 21 Oct): 20 Oct 00:00.
    assert d.remind_at == local(2025, 10, 20, 0, 0)
    data = deadline_as_dict(d)
    assert data["kind"] == "objection_verification"
    assert data["amount"] == 10 and data["unit"] == "working_days"
    assert datetime.fromisoformat(data["due_at"]) == local(2025, 10, 21, 23, 59, 59)
    assert data["explanation"] == (
        "自 2025-09-30 次日起算 10 个工作日，至 2025-10-21 23:59:59（中国法定节假日日历）"
    )
    assert data["basis"]["end_date"] == "2025-10-21"


def test_reminder_never_starts_before_the_event():
    # One working day: due 13 Feb; two days remaining would be 12 Feb 00:00, before the event.
    d = open_deadline(start_at=local(2026, 2, 12, 10, 0), amount=1)
    assert d.due_at == local(2026, 2, 13, 23, 59, 59)
    assert d.remind_at == local(2026, 2, 12, 10, 0)


def test_month_deadline_is_opened_with_calendar_months():
    d = open_deadline(
        kind="notification_verification", start_at=local(2025, 7, 1, 9), amount=3, unit="months"
    )
    # 1 Oct 2025 is a holiday → 9 Oct.
    assert d.due_at == local(2025, 10, 9, 23, 59, 59)


def test_closing_a_deadline_only_closes_an_open_one():
    d = open_deadline()
    deadline_close(deadline=d, status="met", at=local(2025, 10, 10, 9))
    d.refresh_from_db()
    assert d.status == "met" and d.closed_at == local(2025, 10, 10, 9)

    deadline_close(deadline=d, status="cancelled")
    d.refresh_from_db()
    assert d.status == "met"


def test_closing_the_deadlines_of_a_case_leaves_other_cases_alone():
    intake = open_deadline(kind="objection_intake", amount=2)
    check = open_deadline(kind="objection_platform_check", amount=2)
    other = open_deadline(case_id=8)

    assert (
        deadlines_close_for_case(case_kind="objection", case_id=7, kinds=["objection_intake"]) == 1
    )
    assert deadlines_close_for_case(case_kind="objection", case_id=7, status="stopped") == 1

    statuses = {d.pk: d.status for d in Deadline.objects.all()}
    assert statuses == {intake.pk: "cancelled", check.pk: "stopped", other.pk: "open"}
    assert [d.pk for d in deadlines_for_case("objection", 7)] == [intake.pk, check.pk]


def test_assignee_is_recorded(centre_user):
    d = open_deadline()
    deadline_set_assignee(deadline_id=d.pk, user=centre_user)
    d.refresh_from_db()
    assert d.assignee == centre_user


# --- provisional deadlines and loading the year's calendar --------------------------------------

CALENDAR_2027 = [
    CalendarEntry(date=datetime(2027, 1, 1).date(), kind="holiday"),
    *[CalendarEntry(date=datetime(2027, 2, day).date(), kind="holiday") for day in range(8, 13)],
    CalendarEntry(date=datetime(2027, 2, 20).date(), kind="workday"),
]


def test_deadline_in_an_uncovered_year_is_provisional():
    d = open_deadline(start_at=local(2027, 2, 4, 10), amount=5)
    assert d.provisional is True
    assert d.due_at == local(2027, 2, 11, 23, 59, 59)
    assert "2027 年尚无官方日历" in deadline_as_dict(d)["explanation"]


def test_loading_the_year_recomputes_open_provisional_deadlines(recomputed):
    moved = open_deadline(start_at=local(2027, 2, 4, 10), amount=5)
    crossing = open_deadline(case_id=9, start_at=local(2026, 12, 30, 10), amount=3)
    unaffected = open_deadline(case_id=10, start_at=local(2027, 3, 1, 10), amount=2)
    closed = open_deadline(case_id=11, start_at=local(2027, 2, 4, 10), amount=5)
    deadline_close(deadline=closed, status="met")
    assert crossing.due_at == local(2027, 1, 4, 23, 59, 59)

    result = calendar_load(entries=CALENDAR_2027, source="国办发明电〔2026〕X号")

    moved.refresh_from_db()
    crossing.refresh_from_db()
    unaffected.refresh_from_db()
    closed.refresh_from_db()
    # 5 Fri (1); 8–12 holiday; 15 (2), 16 (3), 17 (4), 18 (5).
    assert moved.due_at == local(2027, 2, 18, 23, 59, 59)
    assert moved.provisional is False
    assert moved.basis["previous_due_at"]
    assert datetime.fromisoformat(moved.basis["previous_due_at"]) == local(2027, 2, 11, 23, 59, 59)
    assert "recomputed_at" in moved.basis
    assert moved.remind_at == local(2027, 2, 17, 0, 0)
    assert "原截止 2027-02-11 23:59:59" in deadline_as_dict(moved)["explanation"]
    # 31 Dec (1); 1 Jan 2027 holiday; 4 Jan (2); 5 Jan (3).
    assert crossing.due_at == local(2027, 1, 5, 23, 59, 59)
    # Same date as before, but no longer provisional.
    assert unaffected.due_at == local(2027, 3, 3, 23, 59, 59)
    assert unaffected.provisional is False
    # Closed deadlines are history: not touched.
    assert closed.provisional is True and closed.due_at == local(2027, 2, 11, 23, 59, 59)

    assert {d.pk for d in result.recomputed} == {moved.pk, crossing.pk, unaffected.pk}
    assert len(recomputed) == 1
    assert {d.pk for d in recomputed[0]} == {moved.pk, crossing.pk, unaffected.pk}
    assert CalendarYear.objects.filter(year=2027).exists()
    assert CalendarDay.objects.filter(date__year=2027).count() == 7


def test_recompute_with_nothing_new_changes_nothing_and_calls_no_listener(recomputed):
    d = open_deadline(start_at=local(2027, 2, 4, 10), amount=5)

    assert deadline_recompute_provisional() == []

    d.refresh_from_db()
    assert d.provisional is True and "recomputed_at" not in d.basis
    assert recomputed == []


def test_an_assignee_waiting_for_the_close_is_written_by_it_in_the_same_update():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory
    from workflow_app.workdays.deadlines import deadlines_opened_here

    user = UserFactory(username="dept1", department_staff=True)
    mine = open_deadline(kind="objection_verification")
    other = open_deadline(kind="objection_platform_check")
    with transaction.atomic(), deadlines_opened_here():
        with CaptureQueriesContext(connection) as q:
            deadline_set_assignee(
                deadline_id=mine.pk, user=user, closing=("objection", 7, "objection_verification")
            )
            assert deadlines_close_for_case(case_kind="objection", case_id=7, status="met") == 2
        assert len(q.captured_queries) == 1
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.assignee_id) == ("met", user.pk)
    assert (other.status, other.assignee_id) == ("met", None)  # another step's deadline


def test_an_assignee_no_close_wrote_is_written_at_the_end_of_the_block_and_only_if_it_succeeds():
    from django.db import transaction

    from tests.factories import UserFactory
    from workflow_app.workdays.deadlines import deadlines_opened_here

    user = UserFactory(username="dept2", department_staff=True)
    d = open_deadline()
    with transaction.atomic(), deadlines_opened_here():
        deadline_set_assignee(deadline_id=d.pk, user=user, closing=("objection", 7, d.kind))
        # a close of other kinds leaves it waiting
        deadlines_close_for_case(
            case_kind="objection", case_id=7, status="met", kinds=["objection_intake"]
        )
    d.refresh_from_db()
    assert (d.status, d.assignee_id) == ("open", user.pk)

    other = UserFactory(username="dept3", department_staff=True)
    with pytest.raises(RuntimeError), transaction.atomic(), deadlines_opened_here():
        deadline_set_assignee(deadline_id=d.pk, user=other, closing=("objection", 7, d.kind))
        raise RuntimeError("the completion failed")
    d.refresh_from_db()
    assert d.assignee_id == user.pk


def test_several_deadlines_open_in_one_insert_as_one_by_one(centre_user):
    """A repair filing opens its intake and total deadlines together (deadlines_open): one
    INSERT on PostgreSQL, the same rows as opening them one by one, each registered for the
    task that takes the deadline just opened."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflow_app.workdays.deadlines import (
        deadline_opened,
        deadlines_open,
        deadlines_opened_here,
    )

    specs = [
        {
            "case_kind": "repair",
            "case_id": 9,
            "case_reference": "XF20260000009",
            "kind": "repair_intake",
            "start_at": local(2025, 9, 30, 16, 0),
            "amount": 5,
            "queue": "centre",
            "assignee": centre_user,
            "department_id": None,
        },
        {
            "case_kind": "repair",
            "case_id": 9,
            "case_reference": "XF20260000009",
            "kind": "repair_total",
            "start_at": local(2025, 9, 30, 16, 0),
            "amount": 1,
            "unit": "months",
            "queue": "supervisors",
            "reminder_days": 3,
        },
    ]
    with deadlines_opened_here(), CaptureQueriesContext(connection) as statements:
        together = deadlines_open(specs)
        assert [deadline_opened("repair", 9, k) for k in ("repair_intake", "repair_total")] == (
            together
        )
    inserts = [q for q in statements.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 2)
    alone = [deadline_open(**{**spec, "case_id": 10}) for spec in specs]
    own = {"id", "case_id", "created_at"}
    for a, b in zip(together, alone, strict=True):
        assert a.pk is not None and a.pk != b.pk
        got = Deadline.objects.filter(pk=a.pk).values().get()
        want = Deadline.objects.filter(pk=b.pk).values().get()
        assert {k: v for k, v in got.items() if k not in own} == {
            k: v for k, v in want.items() if k not in own
        }
    assert together[0].assignee_id == centre_user.pk and together[1].unit == "months"


def test_a_steps_deadline_closes_in_the_statement_that_opens_the_next():
    """``deadlines_open(closing=…)``: the step's deadline met (with the holder waiting for its
    close) and the next step's opened — one statement on PostgreSQL, two elsewhere — and the
    same rows either way; other cases' and other kinds' deadlines untouched."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory
    from workflow_app.workdays.deadlines import (
        deadline_opened,
        deadlines_open,
        deadlines_opened_here,
    )

    user = UserFactory(username="centre9", centre=True)
    intake = open_deadline(kind="objection_intake", queue="centre")
    total = open_deadline(kind="objection_total", queue="supervisors")
    elsewhere = open_deadline(case_id=8, kind="objection_intake", queue="centre")
    spec = {
        "case_kind": "objection",
        "case_id": 7,
        "case_reference": "YY-2026-0007",
        "kind": "objection_platform_check",
        "start_at": local(2025, 10, 9, 10, 0),
        "amount": 2,
        "queue": "centre",
    }
    with transaction.atomic(), deadlines_opened_here():
        deadline_set_assignee(
            deadline_id=intake.pk, user=user, closing=("objection", 7, "objection_intake")
        )
        with CaptureQueriesContext(connection) as q:
            (opened,) = deadlines_open(
                [spec],
                closing={
                    "case_kind": "objection",
                    "case_id": 7,
                    "status": "met",
                    "kinds": ["objection_intake"],
                },
            )
        assert deadline_opened("objection", 7, "objection_platform_check") is opened
    writes = [x["sql"] for x in q.captured_queries]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith('WITH "first" AS (UPDATE')
    else:
        assert [w.split(" ")[0] for w in writes] == ["UPDATE", "INSERT"]
    intake.refresh_from_db()
    assert (intake.status, intake.assignee_id) == ("met", user.pk) and intake.closed_at
    assert Deadline.objects.get(pk=total.pk).status == "open"  # another kind
    assert Deadline.objects.get(pk=elsewhere.pk).status == "open"  # another case
    fresh = Deadline.objects.get(pk=opened.pk)
    assert (fresh.kind, fresh.status, fresh.queue) == ("objection_platform_check", "open", "centre")
    assert fresh.due_at == opened.due_at and fresh.basis == opened.basis
