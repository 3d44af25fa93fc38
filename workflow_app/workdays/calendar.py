"""The working-day calendar and the arithmetic of legal periods.

Where the answer for a day comes from, in order:

1. an administrator's ``CalendarDay`` row for that date (a local override of any year, or an
   official day of a year the package does not cover) — it always wins;
2. the ``chinese-calendar`` package (State Council holiday notices, 2004–2026);
3. for a year an administrator has loaded (``CalendarYear``): Monday–Friday, with the year's
   ``CalendarDay`` rows (already applied in step 1);
4. otherwise Monday–Friday only — a *provisional* answer: anything computed from it is flagged
   so that it is recomputed once the year's official calendar is loaded.

Database reads are cached per year in the process (the table is tiny and changes a few times a
year): a computation touching one year issues at most two small queries, never one per day.
Services that change the calendar call :func:`invalidate_cache`; entries also expire after
``CACHE_SECONDS`` so that other processes (workers, other web processes) pick up changes made
elsewhere.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import threading
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import holidays as _pkg_holidays
from chinese_calendar.constants import workdays as _pkg_workdays
from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")

PACKAGE_FIRST_YEAR: int = min(_pkg_holidays).year
PACKAGE_LAST_YEAR: int = max(_pkg_holidays).year
PACKAGE_VERSION: str = ".".join(str(getattr(chinese_calendar, "__version__", "")).split(".")[:2])
CALENDAR_LABEL = (
    f"chinese-calendar {PACKAGE_VERSION} ({PACKAGE_FIRST_YEAR}–{PACKAGE_LAST_YEAR}) + 本地维护"
)

CACHE_SECONDS = 60
END_OF_DAY = time(23, 59, 59)
# A guard against runaway loops (a calendar with no working day at all).
_MAX_SCAN_DAYS = 3700

RULE_WORKING_DAYS = "自触发事件次日起算（当日不计入），至第 N 个工作日 23:59:59 截止"
RULE_MONTHS = (
    "民法典第二百零一条至第二百零三条：开始当日不计入，到期月的对应日为最后一日，"
    "无对应日的以月末日为最后一日；最后一日为节假日的，顺延至节假日后的第一个工作日"
)


# --------------------------------------------------------------------------------------------
# Cache of administrator data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearData:
    holidays: frozenset[date]
    workdays: frozenset[date]
    loaded: float = field(default=0.0, compare=False)


_lock = threading.Lock()
_years: dict[int, _YearData] = {}
_admin_years: tuple[frozenset[int], float] | None = None


def invalidate_cache() -> None:
    """Forget cached calendar data; call after any change to ``CalendarDay``/``CalendarYear``."""
    global _admin_years
    with _lock:
        _years.clear()
        _admin_years = None


def _admin_year_set() -> frozenset[int]:
    global _admin_years
    cached = _admin_years
    now = _time.monotonic()
    if cached is not None and now - cached[1] < CACHE_SECONDS:
        return cached[0]
    from .models import CalendarYear

    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    with _lock:
        _admin_years = (years, now)
    return years


def _year_data(year: int) -> _YearData:
    cached = _years.get(year)
    now = _time.monotonic()
    if cached is not None and now - cached.loaded < CACHE_SECONDS:
        return cached
    from .models import CalendarDay

    hol: set[date] = set()
    work: set[date] = set()
    rows = CalendarDay.objects.filter(
        date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
    ).values_list("date", "kind")
    for day, kind in rows:
        (work if kind == CalendarDay.Kind.WORKDAY else hol).add(day)
    data = _YearData(
        holidays=frozenset(hol),
        workdays=frozenset(work),
        loaded=now,
    )
    with _lock:
        _years[year] = data
    return data


def _package_covers(year: int) -> bool:
    return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR


# --------------------------------------------------------------------------------------------
# Single days
# --------------------------------------------------------------------------------------------


def is_year_covered(year: int) -> bool:
    """True when the official calendar of ``year`` is known (package or administrator data)."""
    return _package_covers(year) or year in _admin_year_set()


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day (see the module docstring for the order of sources)."""
    if isinstance(d, datetime):
        d = d.astimezone(TZ).date() if d.tzinfo else d.date()
    data = _year_data(d.year)
    if d in data.workdays:
        return True
    if d in data.holidays:
        return False
    if _package_covers(d.year):
        # chinese_calendar.is_workday's own rule, without its O(n) year check on every call
        return d in _pkg_workdays or (d.weekday() < 5 and d not in _pkg_holidays)
    return d.weekday() < 5


class _Scanner:
    """Walks days for one computation and remembers which uncovered years it crossed."""

    def __init__(self) -> None:
        self.uncovered: set[int] = set()
        self._covered: dict[int, bool] = {}

    def working(self, d: date) -> bool:
        covered = self._covered.get(d.year)
        if covered is None:
            covered = is_year_covered(d.year)
            self._covered[d.year] = covered
        if not covered:
            self.uncovered.add(d.year)
        return is_working_day(d)


# --------------------------------------------------------------------------------------------
# Computations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computation:
    """A computed deadline: when it ends, whether it rests on a provisional calendar, and how it
    was computed (``basis``, JSON-serialisable, shown to people through :func:`explain`)."""

    due_at: datetime
    provisional: bool
    basis: dict[str, Any]


def _to_local(start: date | datetime) -> tuple[datetime, date]:
    if isinstance(start, datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=TZ)
        local = start.astimezone(TZ)
        return local, local.date()
    local = datetime.combine(start, time(0), TZ)
    return local, start


def _end_of(d: date) -> datetime:
    return datetime.combine(d, END_OF_DAY, TZ)


def _basis(
    *,
    start: datetime,
    start_date: date,
    unit: str,
    amount: int,
    rule: str,
    end_date: date,
    uncovered: Iterable[int],
    **extra: Any,
) -> dict[str, Any]:
    basis: dict[str, Any] = {
        "start": start.isoformat(),
        "start_date": start_date.isoformat(),
        "unit": unit,
        "amount": amount,
        "rule": rule,
        "calendar": CALENDAR_LABEL,
        "uncovered_years": sorted(uncovered),
        "end_date": end_date.isoformat(),
    }
    basis.update(extra)
    return basis


def add_working_days(start: date | datetime, n: int) -> Computation:
    """The end of a period of ``n`` working days triggered at ``start``.

    Counting starts on the day after the triggering event's local date (that day is not counted)
    and the period ends at 23:59:59 local time of the ``n``-th working day. ``n == 0`` ends at
    the end of the triggering day itself.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    local, start_date = _to_local(start)
    scanner = _Scanner()
    day = start_date
    counted = 0
    steps = 0
    while counted < n:
        day += timedelta(days=1)
        steps += 1
        if steps > _MAX_SCAN_DAYS + n:
            raise RuntimeError("calendar has no working days in range")
        if scanner.working(day):
            counted += 1
    return Computation(
        due_at=_end_of(day),
        provisional=bool(scanner.uncovered),
        basis=_basis(
            start=local,
            start_date=start_date,
            unit="working_days",
            amount=n,
            rule=RULE_WORKING_DAYS,
            end_date=day,
            uncovered=scanner.uncovered,
        ),
    )


def _shift_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


def add_calendar_days(start: date | datetime, n: int) -> Computation:
    """A period that ends with an agreed day ``n`` calendar days after ``start`` (a commitment's
    due date): it ends at 23:59:59 of that day, rest day or not — the day was agreed, not
    counted."""
    if n < 0:
        raise ValueError("n must not be negative")
    local, start_date = _to_local(start)
    end = start_date + timedelta(days=n)
    return Computation(
        due_at=_end_of(end),
        provisional=False,
        basis=_basis(
            start=local,
            start_date=start_date,
            unit="days",
            amount=n,
            rule="agreed_date",
            end_date=end,
            uncovered=(),
        ),
    )


def months_later(d: date, months: int) -> date:
    """The nominal last day of a period of ``months`` calendar months that starts the day after
    ``d`` (民法典 Art. 201–202): the same-numbered day of the target month, or its last day when
    it has none. No rolling past rest days: callers that need Art. 203 use :func:`add_months`."""
    return _shift_months(d, months)


def add_months(start: date | datetime, months: int) -> Computation:
    """A calendar-month period per 民法典 Art. 201–203.

    The start day is not counted; the period's last day is the same-numbered day of the target
    month, or that month's last day when it has no such day; when the last day is not a working
    day the period ends on the next working day. ``months == 0`` ends with the start day.
    """
    if months < 0:
        raise ValueError("months must not be negative")
    local, start_date = _to_local(start)
    nominal = _shift_months(start_date, months)
    scanner = _Scanner()
    end = nominal
    if months > 0:
        steps = 0
        while not scanner.working(end):
            end += timedelta(days=1)
            steps += 1
            if steps > _MAX_SCAN_DAYS:
                raise RuntimeError("calendar has no working days in range")
    return Computation(
        due_at=_end_of(end),
        provisional=bool(scanner.uncovered),
        basis=_basis(
            start=local,
            start_date=start_date,
            unit="months",
            amount=months,
            rule=RULE_MONTHS,
            end_date=end,
            uncovered=scanner.uncovered,
            nominal_end_date=nominal.isoformat(),
        ),
    )


def working_days_before(due_at: datetime, n: int) -> datetime:
    """00:00 local time of the working day ``n`` working days before ``due_at``'s local date
    (the moment reminders about that deadline start). ``n == 0`` gives the due day's start."""
    if n < 0:
        raise ValueError("n must not be negative")
    _local, day = _to_local(due_at)
    counted = 0
    steps = 0
    while counted < n:
        day -= timedelta(days=1)
        steps += 1
        if steps > _MAX_SCAN_DAYS + n:
            raise RuntimeError("calendar has no working days in range")
        if is_working_day(day):
            counted += 1
    return datetime.combine(day, time(0), TZ)


# --------------------------------------------------------------------------------------------
# Explanation
# --------------------------------------------------------------------------------------------


def _years_text(years: Iterable[int]) -> str:
    return "、".join(str(y) for y in years)


def explain(basis: dict[str, Any]) -> str:
    """One line, in the active language, telling a person how a deadline was computed."""
    if not basis:
        return ""
    params = {
        "start": basis.get("start_date", ""),
        "amount": basis.get("amount", ""),
        "end": basis.get("end_date", ""),
    }
    if basis.get("unit") == "days":
        text = _("至约定日期 %(end)s 23:59:59（承诺约定的期限，按自然日计）") % params
    elif basis.get("unit") == "months":
        text = (
            _(
                "自 %(start)s 次日起算 %(amount)s 个月，至 %(end)s 23:59:59"
                "（民法典第二百零一条至第二百零三条，到期日遇节假日顺延）"
            )
            % params
        )
    elif basis.get("uncovered_years"):
        text = _(
            "自 %(start)s 次日起算 %(amount)s 个工作日，至 %(end)s 23:59:59"
            "（临时：%(years)s 年尚无官方日历，仅按周末计算）"
        ) % {**params, "years": _years_text(basis["uncovered_years"])}
    else:
        text = (
            _(
                "自 %(start)s 次日起算 %(amount)s 个工作日，至 %(end)s 23:59:59（中国法定节假日日历）"
            )
            % params
        )
    uncovered = basis.get("uncovered_years") or []
    if uncovered and basis.get("unit") != "working_days":
        text += _("（临时：%(years)s 年尚无官方日历，仅按周末计算）") % {
            "years": _years_text(uncovered)
        }
    if basis.get("recomputed_at") and basis.get("previous_due_at"):
        previous = basis["previous_due_at"]
        try:
            previous = datetime.fromisoformat(previous).astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")
        except (TypeError, ValueError):
            pass
        recomputed = basis["recomputed_at"]
        try:
            recomputed = datetime.fromisoformat(recomputed).astimezone(TZ).strftime("%Y-%m-%d")
        except (TypeError, ValueError):
            pass
        text += _("（已于 %(when)s 按新导入的日历重新计算，原截止 %(previous)s）") % {
            "when": recomputed,
            "previous": previous,
        }
    return text
