"""``manage.py load_calendar FILE``."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.workdays.conftest import local
from workflow_app.workdays.calendar import is_working_day, is_year_covered
from workflow_app.workdays.deadlines import deadline_open
from workflow_app.workdays.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

GOOD = """date,kind
2027-01-01,holiday
2027-02-08,holiday
2027-02-09,holiday
2027-02-10,holiday
2027-02-11,holiday
2027-02-12,holiday
2027-02-20,workday
"""


def write(tmp_path, text: str, name: str = "calendar-2027.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path) -> str:
    out = StringIO()
    call_command("load_calendar", str(path), stdout=out)
    return out.getvalue()


def test_loading_a_year_covers_it_and_recomputes_provisional_deadlines(tmp_path, recomputed):
    d = deadline_open(
        case_kind="objection",
        case_id=1,
        case_reference="YY-2027-0001",
        kind="objection_intake",
        start_at=local(2027, 2, 5, 9),
        amount=2,
    )
    # Weekends only: 8 Feb (1), 9 Feb (2).
    assert d.provisional and d.due_at == local(2027, 2, 9, 23, 59, 59)

    output = run(write(tmp_path, GOOD))

    assert "2027" in output
    assert "已重新计算 1 个进行中的临时期限" in output
    assert is_year_covered(2027)
    assert not is_working_day(date(2027, 2, 10))
    assert is_working_day(date(2027, 2, 20))
    d.refresh_from_db()
    # 8–12 Feb are holidays → 15 (1), 16 (2).
    assert d.due_at == local(2027, 2, 16, 23, 59, 59)
    assert d.provisional is False
    assert [x.pk for x in recomputed[0]] == [d.pk]
    day = CalendarDay.objects.get(date=date(2027, 2, 20))
    assert day.history.get().history_change_reason == "导入官方日历：calendar-2027.csv"


def test_loading_twice_changes_nothing_the_second_time(tmp_path):
    path = write(tmp_path, GOOD)
    run(path)
    output = run(path)
    assert "新增 0 天" in output and "未变 7 天" in output
    assert CalendarDay.objects.count() == 7
    assert CalendarYear.objects.get().year == 2027


def test_a_bad_file_is_refused_with_line_numbers_and_nothing_is_loaded(tmp_path):
    bad = """date,kind
2027-01-01,holiday
2027/02/08,holiday
2027-02-30,holiday
2027-02-10,vacation
2027-01-01,workday
"""
    d = deadline_open(
        case_kind="objection",
        case_id=1,
        case_reference="YY-2027-0001",
        kind="objection_intake",
        start_at=local(2027, 2, 5, 9),
        amount=2,
    )

    with pytest.raises(CommandError) as excinfo:
        run(write(tmp_path, bad))

    message = str(excinfo.value)
    assert "第 3 行" in message and "YYYY-MM-DD" in message
    assert "第 4 行" in message and "2027-02-30" in message
    assert "第 5 行" in message and "vacation" in message
    assert "第 6 行" in message and "第 2 行重复" in message
    assert "第 2 行" not in message.split("第 6 行")[0]
    assert CalendarDay.objects.count() == 0
    assert not CalendarYear.objects.exists()
    assert not is_year_covered(2027)
    d.refresh_from_db()
    assert d.provisional is True


def test_a_file_with_a_wrong_header_is_refused(tmp_path):
    with pytest.raises(CommandError, match="date,kind"):
        run(write(tmp_path, "day,type\n2027-01-01,holiday\n"))
    assert CalendarDay.objects.count() == 0


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        run(tmp_path / "nope.csv")


def test_a_file_with_a_note_column_and_bom_is_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("date,kind,note\n2027-10-01,holiday,国庆节\n", encoding="utf-8-sig")
    run(path)
    assert CalendarDay.objects.get().note == "国庆节"
