"""The system check that warns when the calendar does not cover a year."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from tests.workdays.conftest import local
from workflow_app.workdays import checks
from workflow_app.workdays.deadlines import deadline_open
from workflow_app.workdays.models import CalendarYear

pytestmark = pytest.mark.django_db


def today(monkeypatch, d: date) -> None:
    monkeypatch.setattr(checks, "_today", lambda: d)


def open_2027_deadline():
    return deadline_open(
        case_kind="repair",
        case_id=3,
        case_reference="XF-2027-0003",
        kind="repair_decision",
        start_at=local(2027, 3, 1, 9),
        amount=3,
    )


def test_no_warning_when_the_current_year_is_covered(monkeypatch):
    today(monkeypatch, date(2026, 6, 1))
    assert checks.check_calendar_coverage() == []


def test_warns_for_the_year_of_an_open_provisional_deadline(monkeypatch):
    today(monkeypatch, date(2026, 6, 1))
    open_2027_deadline()

    messages = checks.check_calendar_coverage()

    assert [m.id for m in messages] == ["workdays.W001"]
    assert "2027" in messages[0].msg
    assert "load_calendar" in messages[0].hint


def test_warns_in_december_about_next_year(monkeypatch):
    today(monkeypatch, date(2026, 12, 1))
    messages = checks.check_calendar_coverage()
    assert [m.id for m in messages] == ["workdays.W001"]
    assert "2027" in messages[0].msg


def test_warns_about_an_uncovered_current_year_until_it_is_loaded(monkeypatch):
    today(monkeypatch, date(2027, 1, 4))
    assert [m.id for m in checks.check_calendar_coverage()] == ["workdays.W001"]

    CalendarYear.objects.create(year=2027, source="test")

    assert checks.check_calendar_coverage() == []


def test_manage_py_check_shows_the_warning(monkeypatch):
    today(monkeypatch, date(2027, 1, 4))
    err = StringIO()
    call_command("check", stdout=StringIO(), stderr=err)
    assert "workdays.W001" in err.getvalue()


def test_a_database_without_tables_does_not_crash_the_check(monkeypatch):
    def broken():
        raise DatabaseError("no such table: workdays_deadline")

    monkeypatch.setattr(checks, "_years_to_check", broken)
    assert checks.check_calendar_coverage() == []
