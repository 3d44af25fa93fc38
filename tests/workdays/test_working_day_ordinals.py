"""Working days counted once per distinct day (dashboards), and overdue-age ranges as due days."""

from __future__ import annotations

import datetime

import pytest

from workflow_app.workdays.calendar import invalidate_cache
from workflow_app.workdays.deadlines import (
    overdue_due_range,
    working_day_ordinals,
    working_days_after,
)
from workflow_app.workdays.models import CalendarDay

D = datetime.date


@pytest.fixture(autouse=True)
def _holidays(db):
    CalendarDay.objects.create(date=D(2026, 11, 18), kind="holiday")
    CalendarDay.objects.create(date=D(2026, 11, 19), kind="holiday")
    CalendarDay.objects.create(date=D(2026, 11, 21), kind="workday")  # a make-up Saturday
    invalidate_cache()
    yield
    invalidate_cache()


def test_ordinals_agree_with_working_days_after_for_every_pair():
    start, end = D(2026, 11, 1), D(2026, 12, 6)
    ordinals = working_day_ordinals(start, end)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    for a in days:
        for b in days:
            if b > a:
                assert ordinals[b] - ordinals[a] == working_days_after(a, b), (a, b)


@pytest.mark.parametrize(("low", "high"), [(1, 5), (6, 10), (11, 30), (31, None)])
def test_overdue_due_range_selects_exactly_the_bucket(low, high):
    today = D(2026, 11, 30)
    earliest, latest = overdue_due_range(today, low, high)
    for back in range(1, 80):
        due_day = today - datetime.timedelta(days=back)
        late = max(working_days_after(due_day, today), 1)
        in_bucket = late >= low and (high is None or late <= high)
        inside = (earliest is None or due_day >= earliest) and (latest is None or due_day <= latest)
        assert inside == in_bucket, (due_day, late)


def test_package_years_answer_as_chinese_calendar_does():
    import chinese_calendar

    from workflow_app.workdays.calendar import PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR, is_working_day

    day, end = D(PACKAGE_LAST_YEAR - 2, 1, 1), D(PACKAGE_LAST_YEAR, 12, 31)
    assert day.year >= PACKAGE_FIRST_YEAR
    while day <= end:
        if day not in (D(2026, 11, 18), D(2026, 11, 19), D(2026, 11, 21)):  # this file's own rows
            assert is_working_day(day) == chinese_calendar.is_workday(day), day
        day += datetime.timedelta(days=1)


def test_deadline_states_agree_with_deadline_state(db):
    from django.utils import timezone

    from workflow_app.workdays.calendar import TZ
    from workflow_app.workdays.deadlines import deadline_state, deadline_states
    from workflow_app.workdays.models import Deadline

    now = datetime.datetime(2026, 11, 30, 10, tzinfo=TZ)
    rows = []
    for back in range(0, 60, 3):
        due = datetime.datetime(2026, 11, 30, 23, 59, 59, tzinfo=TZ) - datetime.timedelta(days=back)
        for status, closed in (("open", None), ("met", due + datetime.timedelta(days=back % 7))):
            rows.append(
                Deadline(
                    case_kind="objection",
                    case_id=1,
                    kind="intake",
                    start_at=due,
                    amount=2,
                    due_at=due,
                    status=status,
                    closed_at=closed,
                )
            )
    assert deadline_states(rows, now) == [deadline_state(d, now) for d in rows]
    assert timezone.is_aware(now)
