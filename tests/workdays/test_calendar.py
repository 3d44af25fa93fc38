"""Working days, periods and their explanations (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.workdays.conftest import local
from workflow_app.workdays.calendar import (
    add_months,
    add_working_days,
    explain,
    is_working_day,
    is_year_covered,
    working_days_before,
)
from workflow_app.workdays.services import calendar_day_set

pytestmark = pytest.mark.django_db


def end_of(y: int, m: int, d: int) -> datetime:
    return local(y, m, d, 23, 59, 59)


# --- the official calendar as the package carries it -------------------------------------------


def test_spring_festival_2026_days_are_as_announced():
    assert is_working_day(date(2026, 2, 14))  # Saturday, make-up working day
    assert all(not is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(date(2026, 2, 24))
    assert is_working_day(date(2026, 2, 28))  # Saturday, make-up working day
    assert not is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_national_day_2025_days_are_as_announced():
    assert is_working_day(date(2025, 9, 28))  # Sunday, make-up
    assert all(not is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert is_working_day(date(2025, 10, 11))  # Saturday, make-up


# --- working-day periods ---------------------------------------------------------------------


def test_start_day_is_not_counted():
    # Tuesday 10 March 2026, one working day → Wednesday 11 March.
    result = add_working_days(local(2026, 3, 10, 9, 0), 1)
    assert result.due_at == end_of(2026, 3, 11)
    assert result.provisional is False


def test_two_days_before_spring_festival_end_on_the_make_up_saturday():
    # 12 Feb (Thu) not counted; 13 Fri = 1, 14 Sat (make-up) = 2.
    assert add_working_days(local(2026, 2, 12, 10, 0), 2).due_at == end_of(2026, 2, 14)


def test_three_days_jump_over_the_spring_festival():
    # 13 = 1, 14 = 2, 15–23 holiday, 24 = 3.
    assert add_working_days(local(2026, 2, 12, 10, 0), 3).due_at == end_of(2026, 2, 24)


def test_ten_days_over_spring_festival_count_both_make_up_saturdays():
    # 14(1) 24(2) 25(3) 26(4) 27(5) 28 Sat make-up(6) 2 Mar(7) 3(8) 4(9) 5(10)
    assert add_working_days(local(2026, 2, 13, 18, 0), 10).due_at == end_of(2026, 3, 5)


def test_event_on_a_holiday_counts_from_the_first_working_day_after_it():
    assert add_working_days(local(2026, 2, 16, 11, 0), 1).due_at == end_of(2026, 2, 24)


def test_the_local_date_of_the_event_decides_not_utc():
    # 15:30 UTC on 13 Feb is 23:30 in Shanghai on 13 Feb → day 1 is 14 Feb.
    late = datetime(2026, 2, 13, 15, 30, tzinfo=UTC)
    assert add_working_days(late, 1).due_at == end_of(2026, 2, 14)
    # 16:30 UTC on 13 Feb is already 00:30 on 14 Feb in Shanghai → day 1 is 24 Feb.
    after_midnight = datetime(2026, 2, 13, 16, 30, tzinfo=UTC)
    assert add_working_days(after_midnight, 1).due_at == end_of(2026, 2, 24)


def test_national_day_2025_make_up_sunday_counts():
    # 26 Sep Fri not counted; 27 Sat off; 28 Sun make-up (1); 29 Mon (2).
    assert add_working_days(local(2025, 9, 26, 10, 0), 2).due_at == end_of(2025, 9, 29)


def test_national_day_2025_holiday_is_skipped_and_make_up_saturday_counts():
    assert add_working_days(local(2025, 9, 30, 16, 0), 1).due_at == end_of(2025, 10, 9)
    # 9 Thu (1), 10 Fri (2), 11 Sat make-up (3)
    assert add_working_days(local(2025, 9, 30, 16, 0), 3).due_at == end_of(2025, 10, 11)
    # ... 13(4) 14(5) 15(6) 16(7) 17(8) 20(9) 21(10)
    assert add_working_days(local(2025, 9, 30, 16, 0), 10).due_at == end_of(2025, 10, 21)


def test_basis_records_how_the_deadline_was_computed():
    result = add_working_days(local(2026, 2, 10, 9, 0), 5)
    assert result.due_at == end_of(2026, 2, 24)
    basis = result.basis
    assert basis["start_date"] == "2026-02-10"
    assert basis["end_date"] == "2026-02-24"
    assert basis["unit"] == "working_days"
    assert basis["amount"] == 5
    assert basis["uncovered_years"] == []
    assert "chinese-calendar 1.11" in basis["calendar"]
    assert datetime.fromisoformat(basis["start"]) == local(2026, 2, 10, 9, 0)
    assert explain(basis) == (
        "自 2026-02-10 次日起算 5 个工作日，至 2026-02-24 23:59:59（中国法定节假日日历）"
    )


def test_reminders_start_two_working_days_before_the_due_day():
    # Before 24 Feb: 15–23 off, 14 Sat make-up (1), 13 Fri (2).
    assert working_days_before(end_of(2026, 2, 24), 2) == local(2026, 2, 13, 0, 0)
    # Before 9 Oct 2025: 1–8 off, 30 Sep (1), 29 Sep (2).
    assert working_days_before(end_of(2025, 10, 9), 2) == local(2025, 9, 29, 0, 0)


def test_working_day_arithmetic_does_not_query_per_day(django_assert_max_num_queries):
    # About a year of working days, crossing into 2027: a handful of queries, not hundreds.
    with django_assert_max_num_queries(4):
        result = add_working_days(local(2026, 3, 2, 9, 0), 250)
    assert result.due_at.year == 2027
    with django_assert_max_num_queries(0):
        add_working_days(local(2026, 3, 2, 9, 0), 250)


# --- years without official data -------------------------------------------------------------


def test_year_without_official_calendar_is_provisional_weekends_only():
    assert not is_year_covered(2027)
    assert is_year_covered(2026) and is_year_covered(2004)
    # Thu 4 Feb 2027: 5 Fri (1), 8 (2), 9 (3), 10 (4), 11 (5) — weekends only.
    result = add_working_days(local(2027, 2, 4, 10, 0), 5)
    assert result.due_at == end_of(2027, 2, 11)
    assert result.provisional is True
    assert result.basis["uncovered_years"] == [2027]
    assert explain(result.basis).endswith("（临时：2027 年尚无官方日历，仅按周末计算）")


def test_period_inside_a_covered_year_is_not_provisional_even_near_an_uncovered_one():
    assert add_working_days(local(2026, 12, 28, 10, 0), 2).provisional is False
    crossing = add_working_days(local(2026, 12, 30, 10, 0), 2)
    assert crossing.provisional is True
    assert crossing.due_at == end_of(2027, 1, 1)


# --- administrator overrides -----------------------------------------------------------------


def test_administrator_override_wins_over_the_package(admin_user):
    calendar_day_set(day=date(2026, 3, 10), kind="holiday", note="本地停工", by=admin_user)
    calendar_day_set(day=date(2026, 3, 14), kind="workday", note="本地补班", by=admin_user)

    assert not is_working_day(date(2026, 3, 10))
    assert is_working_day(date(2026, 3, 14))
    # Mon 9 Mar: 10 off (override), 11 (1), 12 (2), 13 (3), 14 Sat worked (4).
    assert add_working_days(local(2026, 3, 9, 9, 0), 4).due_at == end_of(2026, 3, 14)


def test_administrator_override_history_is_kept(admin_user):
    day = calendar_day_set(day=date(2026, 3, 10), kind="holiday", by=admin_user, reason="通知")
    calendar_day_set(day=date(2026, 3, 10), kind="workday", by=admin_user, reason="撤回")

    history = list(day.history.order_by("history_date"))
    assert [h.kind for h in history] == ["holiday", "workday"]
    assert [h.history_change_reason for h in history] == ["通知", "撤回"]
    assert history[-1].history_user == admin_user


# --- calendar months (民法典 201–203) -----------------------------------------------------------


def test_month_end_without_same_day_ends_on_the_last_day_of_the_month():
    # 28 Feb 2026 is a Saturday but an official make-up working day: no roll.
    assert add_months(date(2026, 1, 31), 1).due_at == end_of(2026, 2, 28)
    # 2025: Fri 28 Feb.
    assert add_months(date(2025, 1, 31), 1).due_at == end_of(2025, 2, 28)


def test_month_end_in_a_leap_year_is_the_29th():
    result = add_months(date(2028, 1, 31), 1)
    assert result.due_at == end_of(2028, 2, 29)
    assert result.provisional is True  # 2028 has no official calendar yet


def test_month_end_on_a_holiday_rolls_to_the_next_working_day():
    # 1 Oct 2025 is National Day; 1–8 Oct are off → 9 Oct.
    result = add_months(date(2025, 9, 1), 1)
    assert result.due_at == end_of(2025, 10, 9)
    assert result.basis["nominal_end_date"] == "2025-10-01"
    assert result.basis["end_date"] == "2025-10-09"
    # Twelve months from 23 Feb 2025 end on 23 Feb 2026 (Spring Festival) → 24 Feb.
    assert add_months(date(2025, 2, 23), 12).due_at == end_of(2026, 2, 24)


def test_month_end_on_a_weekend_rolls_to_monday():
    assert add_months(local(2026, 2, 7, 15, 0), 1).due_at == end_of(2026, 3, 9)


def test_month_end_on_an_ordinary_day_is_that_day():
    result = add_months(date(2026, 1, 15), 3)
    assert result.due_at == end_of(2026, 4, 15)
    assert explain(result.basis).startswith("自 2026-01-15 次日起算 3 个月，至 2026-04-15 23:59:59")
