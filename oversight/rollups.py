"""Grouped rows behind the dashboard, from the base tables or from the daily rollups.

The same three groupings — completed steps, filed cases, 双公示 pushes — are computed from the
base tables for a time range (``*_groups``); ``rollup_build`` stores them for every ended day,
and for the day going on up to ``ROLLUP_LAG`` ago (in slices, one per run: a day of a
500,000-record push would otherwise be counted row by row on every dashboard), and
:func:`step_totals` / :func:`filed_totals` / :func:`publicity_totals` read the rollups up to
where they reach and the base tables after that, merging the two. An ended day is summed again
whole (its slices replaced by one row per group).

A row is summed by the time it records (a step's close, a filing, a push); the builder sums
only times at least ``ROLLUP_LAG`` old, so a row written in a transaction that commits later
than that after its time would be missed until ``rollup_dashboard --rebuild`` — as would rows
imported with times in the past.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from processes.registry import kinds
from workflow_app.cases.transitions import APPLICANT_QUEUE
from workflow_app.registry.models import Category, CreditRecord
from workflow_app.workdays.models import Deadline

from .models import FiledDay, PublicityDay, RollupDay, RollupPart, StepDay

DOUBLE_PUBLICITY_CATEGORIES = (Category.LICENCE, Category.PENALTY)
CHUNK_DAYS = 31
# the builder sums what is at least this old: every transaction that wrote it has committed
ROLLUP_LAG = datetime.timedelta(minutes=10)
_ROLLUP_TABLES = (StepDay, FiledDay, PublicityDay)


def start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _day(value: Any) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


# --- from the base tables -----------------------------------------------------------------------


def step_groups(
    start: datetime.datetime, end: datetime.datetime, department_id: int | None = None
) -> list[dict[str, Any]]:
    key = (start, end, department_id)
    cached = _live_cache.get()
    if cached is not None and key in cached:
        return cached[key]  # type: ignore[no-any-return]
    rows = _step_groups(start, end, department_id)
    if cached is not None:
        cached[key] = rows
    return rows


# One dashboard reads today's completed steps for several figures: within ``live_rows_once()``
# they are read once.
_live_cache: ContextVar[dict[Any, Any] | None] = ContextVar("oversight_live_cache", default=None)


@contextmanager
def live_rows_once() -> Iterator[None]:
    token = _live_cache.set({})
    try:
        yield
    finally:
        _live_cache.reset(token)


def _step_groups(
    start: datetime.datetime, end: datetime.datetime, department_id: int | None = None
) -> list[dict[str, Any]]:
    """Staff steps completed in ``[start, end)``, by closing day, start day, workflow,
    department and step (the applicant's own periods are not the platform's deadlines)."""
    qs = Deadline.objects.filter(
        status=Deadline.Status.MET, closed_at__gte=start, closed_at__lt=end
    ).exclude(queue=APPLICANT_QUEUE)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    rows = (
        qs.annotate(day=TruncDate("closed_at"), start_day=TruncDate("start_at"), step=F("kind"))
        .values("day", "start_day", "case_kind", "department_id", "step")
        .annotate(
            completed=Count("id"),
            on_time=Count("id", filter=Q(closed_at__lte=F("due_at"))),
        )
        .order_by()
    )
    return [dict(r, day=_day(r["day"]), start_day=_day(r["start_day"])) for r in rows]


def _department_id_path(k: Any) -> str:
    return str(k.department_field).removesuffix("__code") + "_id"


def filed_groups(
    start: datetime.datetime, end: datetime.datetime, department_id: int | None = None
) -> list[dict[str, Any]]:
    """Cases filed in ``[start, end)`` by day, workflow and department (one query per kind)."""
    found: list[dict[str, Any]] = []
    for k in kinds():
        path = _department_id_path(k)
        qs = k.model.objects.filter(**{f"{k.filed_field}__gte": start, f"{k.filed_field}__lt": end})
        if department_id is not None:
            qs = qs.filter(**{path: department_id})
        rows = (
            qs.annotate(day=TruncDate(k.filed_field), dept=F(path))
            .values("day", "dept")
            .annotate(filed=Count("pk"))
            .order_by()
        )
        found.extend(
            {
                "day": _day(r["day"]),
                "case_kind": k.code,
                "department_id": r["dept"],
                "filed": r["filed"],
            }
            for r in rows
        )
    return found


def publicity_base(
    start: datetime.datetime, end: datetime.datetime, department_id: int | None = None
) -> Any:
    qs = CreditRecord.objects.filter(
        category__in=DOUBLE_PUBLICITY_CATEGORIES,
        version=1,
        created_at__gte=start,
        created_at__lt=end,
    )
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs


def publicity_groups(
    start: datetime.datetime, end: datetime.datetime, department_id: int | None = None
) -> list[dict[str, Any]]:
    """双公示 first pushes in ``[start, end)`` by push day, department and decision day."""
    rows = (
        publicity_base(start, end, department_id)
        .annotate(day=TruncDate("created_at"))
        .values("day", "department_id", "decision_date")
        .annotate(pushed=Count("id"))
        .order_by()
    )
    return [dict(r, day=_day(r["day"])) for r in rows]


# --- building the rollups -----------------------------------------------------------------------


def built_until() -> datetime.date | None:
    """The last day in the rollups whole (days are built in order, none skipped); read once
    within ``live_rows_once()``."""
    cached = _live_cache.get()
    if cached is not None and "built_until" in cached:
        return cached["built_until"]  # type: ignore[no-any-return]
    last: datetime.date | None = RollupDay.objects.aggregate(last=Max("day"))["last"]
    if cached is not None:
        cached["built_until"] = last
    return last


def rollup_part() -> RollupPart | None:
    """The day summed in part (the one after :func:`built_until`), if any; read once within
    ``live_rows_once()``."""
    cached = _live_cache.get()
    if cached is not None and "part" in cached:
        return cached["part"]  # type: ignore[no-any-return]
    last = built_until()
    part = RollupPart.objects.order_by("-day").first()
    if part is not None and last is not None and part.day != last + datetime.timedelta(days=1):
        part = None  # not next to the days summed whole: the rollups do not reach it
    if cached is not None:
        cached["part"] = part
    return part


def _first_data_day() -> datetime.date | None:
    candidates = [
        Deadline.objects.filter(status=Deadline.Status.MET).aggregate(m=Min("closed_at"))["m"],
        CreditRecord.objects.filter(category__in=DOUBLE_PUBLICITY_CATEGORIES).aggregate(
            m=Min("created_at")
        )["m"],
    ]
    for k in kinds():
        candidates.append(k.model.objects.aggregate(m=Min(k.filed_field))["m"])
    days = [timezone.localtime(c).date() for c in candidates if c is not None]
    return min(days) if days else None


def rollup_build(*, now: datetime.datetime | None = None) -> int:
    """Sum every ended day not yet in the rollups, then the day going on up to ``ROLLUP_LAG``
    ago; returns how many days were added whole. Safe to run concurrently (the builders
    serialise) and again (nothing is added twice)."""
    settled = (now or timezone.now()) - ROLLUP_LAG
    today = timezone.localdate(settled)
    yesterday = today - datetime.timedelta(days=1)
    added = 0
    while True:
        with transaction.atomic():
            _lock_rollups()
            last = built_until()
            first = last + datetime.timedelta(days=1) if last else _first_data_day()
            if first is None:
                return added
            if first > yesterday:
                _build_part(today, settled)
                return added
            end = min(first + datetime.timedelta(days=CHUNK_DAYS - 1), yesterday)
            _build(first, end)
            added += (end - first).days + 1


def _lock_rollups() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {RollupDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _insert_groups(start: datetime.datetime, end: datetime.datetime) -> None:
    StepDay.objects.bulk_create([StepDay(**r) for r in step_groups(start, end)], batch_size=2000)
    FiledDay.objects.bulk_create([FiledDay(**r) for r in filed_groups(start, end)], batch_size=2000)
    PublicityDay.objects.bulk_create(
        [PublicityDay(**r) for r in publicity_groups(start, end)], batch_size=2000
    )


def _build(first: datetime.date, last: datetime.date) -> None:
    """Sum the days ``[first, last]`` whole (a day summed in part: its slices replaced)."""
    for model in _ROLLUP_TABLES:  # rows there only from a day summed in part
        model.objects.filter(day__gte=first, day__lte=last).delete()
    RollupPart.objects.filter(day__lte=last).delete()
    _insert_groups(start_of(first), start_of(last + datetime.timedelta(days=1)))
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    RollupDay.objects.bulk_create([RollupDay(day=d) for d in days])


def _build_part(today: datetime.date, settled: datetime.datetime) -> None:
    """Sum ``today`` from where its rollups reach up to ``settled``: one more slice."""
    part = RollupPart.objects.filter(day=today).first()
    since = part.through if part is not None else start_of(today)
    if settled <= since:
        return
    _insert_groups(since, settled)
    if part is None:
        RollupPart.objects.create(day=today, through=settled)
    else:
        part.through = settled
        part.save(update_fields=["through"])


def rollup_clear() -> None:
    """Forget every rollup (``rollup_dashboard --rebuild``)."""
    with transaction.atomic():
        for model in (*_ROLLUP_TABLES, RollupPart, RollupDay):
            model.objects.all().delete()


# --- reading: rollups for ended days, base tables for the rest -----------------------------------


def _split(
    day_from: datetime.date, day_to: datetime.date
) -> tuple[
    tuple[datetime.date, datetime.date] | None, tuple[datetime.datetime, datetime.datetime] | None
]:
    """The days of ``[day_from, day_to]`` to read from the rollups, and the time range to read
    live (never beyond today: nothing has happened there yet). The rollups reach the end of
    :func:`built_until`, or into the day after it when that day is summed in part."""
    day_to = min(day_to, timezone.localdate())
    if day_to < day_from:
        return None, None
    end = start_of(day_to + datetime.timedelta(days=1))
    last = built_until()
    part = rollup_part()
    if part is not None:
        stored_last, reach = part.day, part.through
    elif last is not None:
        stored_last, reach = last, start_of(last + datetime.timedelta(days=1))
    else:
        return None, (start_of(day_from), end)
    stored = (day_from, min(day_to, stored_last)) if stored_last >= day_from else None
    start = max(reach, start_of(day_from))
    return stored, ((start, end) if start < end else None)


def _merge(
    into: dict[tuple[Any, ...], list[int]],
    rows: Iterable[dict[str, Any]],
    keys: tuple[str, ...],
    values: tuple[str, ...],
) -> None:
    for r in rows:
        slot = into.setdefault(tuple(r[k] for k in keys), [0] * len(values))
        for i, v in enumerate(values):
            slot[i] += r[v] or 0


def step_totals(
    day_from: datetime.date,
    day_to: datetime.date,
    keys: tuple[str, ...],
    department_id: int | None = None,
) -> dict[tuple[Any, ...], list[int]]:
    """Completed and on-time steps of the days ``[day_from, day_to]``, grouped by ``keys`` (any
    of day, start_day, case_kind, department_id, step) → ``[completed, on_time]``."""
    stored, live = _split(day_from, day_to)
    found: dict[tuple[Any, ...], list[int]] = {}
    if stored:
        qs = StepDay.objects.filter(day__gte=stored[0], day__lte=stored[1])
        if department_id is not None:
            qs = qs.filter(department_id=department_id)
        rows = qs.values(*keys).annotate(c=Sum("completed"), o=Sum("on_time")).order_by()
        _merge(found, rows, keys, ("c", "o"))
    if live:
        rows = step_groups(live[0], live[1], department_id)
        _merge(found, rows, keys, ("completed", "on_time"))
    return found


def filed_totals(
    day_from: datetime.date, day_to: datetime.date, department_id: int | None = None
) -> dict[tuple[Any, ...], list[int]]:
    """Filed cases of the days ``[day_from, day_to]`` by (case_kind, day) → ``[filed]``."""
    stored, live = _split(day_from, day_to)
    keys = ("case_kind", "day")
    found: dict[tuple[Any, ...], list[int]] = {}
    if stored:
        qs = FiledDay.objects.filter(day__gte=stored[0], day__lte=stored[1])
        if department_id is not None:
            qs = qs.filter(department_id=department_id)
        _merge(found, qs.values(*keys).annotate(f=Sum("filed")).order_by(), keys, ("f",))
    if live:
        rows = filed_groups(live[0], live[1], department_id)
        _merge(found, rows, keys, ("filed",))
    return found


def publicity_totals(
    day_from: datetime.date, day_to: datetime.date, department_id: int | None = None
) -> dict[tuple[Any, ...], list[int]]:
    """双公示 pushes of the days ``[day_from, day_to]`` by (department_id, decision_date, day)."""
    stored, live = _split(day_from, day_to)
    keys = ("department_id", "decision_date", "day")
    found: dict[tuple[Any, ...], list[int]] = {}
    if stored:
        qs = PublicityDay.objects.filter(day__gte=stored[0], day__lte=stored[1])
        if department_id is not None:
            qs = qs.filter(department_id=department_id)
        _merge(found, qs.values(*keys).annotate(p=Sum("pushed")).order_by(), keys, ("p",))
    if live:
        rows = publicity_groups(live[0], live[1], department_id)
        _merge(found, rows, keys, ("pushed",))
    return found
