"""Deadline states, read one way everywhere: on time / late by N working days / open / overdue by
N working days / stopped — at the boundaries (23:59:59 of the last day, across a holiday,
provisional years)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from workflow_app.workdays.calendar import add_working_days, explain
from workflow_app.workdays.deadlines import deadline_close, deadline_open, deadline_state

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10, mm=0, ss=0):
    return datetime.datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def _open(start, days=2):
    return deadline_open(
        case_kind="objection",
        case_id=1,
        case_reference="YY1",
        kind="objection_intake",
        start_at=start,
        amount=days,
        queue="centre",
    )


def test_done_at_the_last_second_is_on_time_and_the_next_working_day_is_late():
    d = _open(at(2026, 3, 2))  # Monday → due Wednesday 2026-03-04 23:59:59
    assert timezone.localtime(d.due_at) == at(2026, 3, 4, 23, 59, 59)
    deadline_close(deadline=d, status="met", at=at(2026, 3, 4, 23, 59, 59))
    assert deadline_state(d)["state"] == "on_time"
    d2 = _open(at(2026, 3, 2))
    deadline_close(deadline=d2, status="met", at=at(2026, 3, 5, 9))
    state = deadline_state(d2)
    assert state["state"] == "late" and state["days_late"] == 1 and "1" in state["label"]


def test_late_across_a_holiday_counts_working_days_only():
    """Opened Friday 2025-09-26 for 2 working days: Sunday 09-28 is a make-up working day, so the
    period ends Monday 09-29. Done on 10-09, after the National Day holiday (10-01..10-08): late
    by 2 working days (09-30 and 10-09), not by ten calendar days."""
    d = _open(at(2025, 9, 26), days=2)
    assert timezone.localtime(d.due_at).date() == datetime.date(2025, 9, 29)
    deadline_close(deadline=d, status="met", at=at(2025, 10, 9, 9))
    state = deadline_state(d)
    assert state["state"] == "late" and state["days_late"] == 2


def test_open_and_overdue():
    d = _open(at(2026, 3, 2))
    assert deadline_state(d, now=at(2026, 3, 4, 23, 59, 59))["state"] == "open"
    over = deadline_state(d, now=at(2026, 3, 6, 9))
    assert over["state"] == "overdue" and over["days_late"] == 2


def test_stopped_is_its_own_state():
    d = _open(at(2026, 3, 2))
    deadline_close(deadline=d, status="stopped")
    assert deadline_state(d)["state"] == "stopped"


def test_provisional_explanation_does_not_claim_the_official_calendar():
    text = explain(add_working_days(at(2027, 3, 1), 2).basis)
    assert "仅按周末计算" in text and "中国法定节假日日历" not in text


def test_a_task_due_at_the_end_of_the_second_working_day_is_due_soon(centre_user):
    from processes.models import CaseTask
    from processes.selectors import soon_threshold, task_as_dict

    now = at(2026, 3, 2, 10)
    soon = soon_threshold(now)
    task = CaseTask(
        due_at=at(2026, 3, 4, 23, 59, 59), case_kind="objection", step="objection_intake"
    )
    assert task_as_dict(task, now=now, soon=soon)["due_soon"] is True
    task.due_at = at(2026, 3, 5, 0, 0, 0)
    assert task_as_dict(task, now=now, soon=soon)["due_soon"] is False
