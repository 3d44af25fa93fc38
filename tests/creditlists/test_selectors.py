"""The dashboard's figures of the national-platform reports, against a hand-counted fixture that
crosses a weekend, the Dragon Boat holiday (package) and a local holiday (administrator data)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditlists.selectors import (
    national_report_summary,
    national_reports_overdue,
    public_list,
)
from creditlists.services import list_leave, list_report_national
from tests.creditlists.conftest import join
from tests.factories import SubjectFactory
from workflow_app.workdays.calendar import invalidate_cache
from workflow_app.workdays.models import CalendarDay

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def local_holiday(db):
    """Wed 4 June 2025 declared a local holiday by the administrator."""
    CalendarDay.objects.create(date=D(2025, 6, 4), kind=CalendarDay.Kind.HOLIDAY, note="本地")
    invalidate_cache()


@pytest.fixture
def reports(local_holiday, dept_samr, dept_emb):
    """Hand-counted due dates (10 working days, the action day not counted):

    - joined Fri 30 May: Sat 31 May–Mon 2 Jun Dragon Boat holiday, Wed 4 Jun local holiday →
      3 (1), 5 (2), 6 (3), 9–13 (4–8), 16 (9), 17 (10): due Tue 17 June;
    - joined Fri 6 June: 9–13 (1–5), 16–20 (6–10): due Fri 20 June;
    - left Tue 10 June: 11–13 (1–3), 16–20 (4–8), 23 (9), 24 (10): due Tue 24 June.
    """
    overdue = join(SubjectFactory(name="逾期未报公司"), dept_samr, joined_on=D(2025, 5, 30))
    pending = join(SubjectFactory(name="待报送公司"), dept_samr, joined_on=D(2025, 6, 6))
    on_time = join(SubjectFactory(name="按时报送公司"), dept_samr, joined_on=D(2025, 5, 30))
    late = join(SubjectFactory(name="逾期报送公司"), dept_samr, joined_on=D(2025, 5, 30))
    other = join(SubjectFactory(name="其他部门公司"), dept_emb, joined_on=D(2025, 5, 30))
    list_report_national(
        report=on_time.national_reports.get(),
        reported_on=D(2025, 6, 17),  # the due day itself is in time
        national_reference="CN-1",
        by=dept_samr,
    )
    list_report_national(
        report=late.national_reports.get(),
        reported_on=D(2025, 6, 18),
        national_reference="CN-2",
        by=dept_samr,
    )
    list_leave(
        entry=on_time,
        reason="移出",
        decision_reference="移出文号",
        left_on=D(2025, 6, 10),
        by=dept_samr,
    )
    return {"overdue": overdue, "pending": pending, "on_time": on_time, "other": other}


def test_due_dates_are_counted_in_working_days(reports):
    assert reports["overdue"].national_reports.get().due_date == D(2025, 6, 17)
    assert reports["pending"].national_reports.get().due_date == D(2025, 6, 20)
    assert reports["on_time"].national_reports.get(action="leave").due_date == D(2025, 6, 24)


def test_summary_for_one_department(reports, samr):
    summary = national_report_summary(department_id=samr.pk, today=D(2025, 6, 18))
    assert summary == {"pending": 2, "overdue": 1, "reported_on_time": 1, "reported_late": 1}


def test_summary_for_all_departments_in_one_query(reports):
    with CaptureQueriesContext(connection) as queries:
        summary = national_report_summary(today=D(2025, 6, 18))
    assert len(queries) == 1
    assert summary == {"pending": 2, "overdue": 2, "reported_on_time": 1, "reported_late": 1}


def test_the_due_day_itself_is_not_overdue(reports, samr):
    summary = national_report_summary(department_id=samr.pk, today=D(2025, 6, 17))
    assert summary["overdue"] == 0 and summary["pending"] == 3


def test_overdue_list_oldest_first_with_subject_and_department(reports, dept_samr, emb):
    # joined Tue 3 June: 5 (1), 6 (2), 9–13 (3–7), 16 (8), 17 (9), 18 (10): due Wed 18 June
    join(SubjectFactory(name="更晚逾期公司"), dept_samr, joined_on=D(2025, 6, 3))
    rows = list(national_reports_overdue(today=D(2025, 7, 1)))
    assert [(r.subject.name, r.action, r.due_date) for r in rows] == [
        ("逾期未报公司", "join", D(2025, 6, 17)),
        ("其他部门公司", "join", D(2025, 6, 17)),
        ("更晚逾期公司", "join", D(2025, 6, 18)),
        ("待报送公司", "join", D(2025, 6, 20)),
        ("按时报送公司", "leave", D(2025, 6, 24)),
    ]
    with CaptureQueriesContext(connection) as queries:
        rows = list(national_reports_overdue(department_id=emb.pk, today=D(2025, 7, 1)))
        assert [(r.subject.name, r.department.code) for r in rows] == [("其他部门公司", "EMB")]
    assert len(queries) == 1


def test_empty_summary_is_all_zero(db):
    assert national_report_summary(today=D(2025, 6, 18)) == {
        "pending": 0,
        "overdue": 0,
        "reported_on_time": 0,
        "reported_late": 0,
    }


def test_public_list_active_legal_persons_searchable(company, dept_samr):
    join(company, dept_samr, list_type="black")
    left = join(SubjectFactory(name="已移出公司"), dept_samr, list_type="black")
    list_leave(
        entry=left, reason="移出", decision_reference="文", left_on=D(2025, 7, 1), by=dept_samr
    )
    join(SubjectFactory(name="红名单公司"), dept_samr, list_type="red")

    assert [e.subject.name for e in public_list("black")] == [company.name]
    assert [e.subject.name for e in public_list("black", "坪山")] == [company.name]
    code = company.identifier_display
    assert [e.subject for e in public_list("black", code[:8].lower())] == [company]
    assert list(public_list("black", "不存在")) == []
    assert [e.subject.name for e in public_list("red")] == ["红名单公司"]


def test_summary_of_reports_made_within_a_range(reports, samr):
    """The dashboard counts the reports made within its range (pending and overdue stay as of
    today), each part read from its own index."""
    summary = national_report_summary(
        department_id=samr.pk,
        today=D(2025, 6, 18),
        reported_between=(D(2025, 6, 18), D(2025, 6, 30)),
    )
    assert summary == {"pending": 2, "overdue": 1, "reported_on_time": 0, "reported_late": 1}
    summary = national_report_summary(
        today=D(2025, 6, 18), reported_between=(D(2025, 6, 1), D(2025, 6, 17))
    )
    assert summary == {"pending": 2, "overdue": 2, "reported_on_time": 1, "reported_late": 0}
