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
