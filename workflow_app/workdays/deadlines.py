"""The generic deadline engine: every case type opens, closes and reads its deadlines here.

A ``Deadline`` row records when it ends and how that was computed (``basis``), so a case can
always show "from which event, how many units, which calendar". Sweeps (reminders, escalation)
work set-based on this table alone.

When the official calendar of a year is loaded, :func:`deadline_recompute_provisional`
recomputes the open provisional deadlines and hands the changed ones to the listeners registered
with :func:`on_recomputed` (the process layer moves its task due dates and writes the audit entry
of each case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow_app.compiled import CompiledQuery
from workflow_app.writes import insert_rows

from .calendar import (
    Computation,
    add_calendar_days,
    add_months,
    add_working_days,
    explain,
    is_working_day,
    working_days_before,
)
from .models import Deadline

UNITS = ("working_days", "months", "days")
DEFAULT_REMINDER_DAYS = 2

RecomputeListener = Callable[[list[Deadline]], Any]
_listeners: list[RecomputeListener] = []


def on_recomputed(callback: RecomputeListener) -> RecomputeListener:
    """Register ``callback(deadlines)``, called (inside the recompute transaction) with the list
    of deadlines whose due date or provisional flag changed. Usable as a decorator."""
    if callback not in _listeners:
        _listeners.append(callback)
    return callback


def _compute(start_at: datetime, amount: int, unit: str) -> Computation:
    if unit == "working_days":
        return add_working_days(start_at, amount)
    if unit == "months":
        return add_months(start_at, amount)
    if unit == "days":
        return add_calendar_days(start_at, amount)
    raise ValueError(f"unknown deadline unit {unit!r}; expected one of {UNITS}")


def _remind_at(due_at: datetime, start_at: datetime, reminder_days: int) -> datetime:
    """Reminders start when ``reminder_days`` working days remain, the due day included: for a
    deadline ending Wednesday 23:59:59 and 2 days, on Tuesday 00:00. Never before the start."""
    remind = working_days_before(due_at, max(reminder_days - 1, 0))
    return max(remind, start_at)


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


# Deadlines opened within ``deadlines_opened_here()``, by (case kind, case id, step): the code
# that sets up the next task of the same request reads the deadline from here instead of
# reading the row it has just written.
_opened: ContextVar[dict[tuple[str, int, str], Deadline] | None] = ContextVar(
    "deadlines_opened", default=None
)


# Assignees waiting for their deadline's close in the same block, by (case kind, case id, kind):
# whoever completes an unclaimed task becomes its deadline's assignee, and the step's handler
# closes that deadline a moment later — one UPDATE writes both.
_assignees: ContextVar[dict[tuple[str, int, str], tuple[int, Any]] | None] = ContextVar(
    "deadline_assignees", default=None
)


@contextmanager
def deadlines_opened_here() -> Iterator[dict[tuple[str, int, str], Deadline]]:
    opened: dict[tuple[str, int, str], Deadline] = {}
    assignees: dict[tuple[str, int, str], tuple[int, Any]] = {}
    token, assignees_token = _opened.set(opened), _assignees.set(assignees)
    try:
        yield opened
        # assignees whose deadline no close of this block wrote (only when the block succeeded)
        for deadline_id, user in assignees.values():
            Deadline.objects.filter(pk=deadline_id).update(assignee=user)
    finally:
        _opened.reset(token)
        _assignees.reset(assignees_token)


def deadline_opened(case_kind: str, case_id: int, kind: str) -> Deadline | None:
    """The deadline of that step opened in this ``deadlines_opened_here()`` block, if any."""
    opened = _opened.get()
    return opened.get((case_kind, int(case_id), kind)) if opened is not None else None


def deadline_open(**spec: Any) -> Deadline:
    """Open a deadline of ``amount`` ``unit`` counted from the event at ``start_at`` (the
    arguments: :func:`_new_deadline`'s)."""
    return deadlines_open([spec])[0]


def _new_deadline(
    *,  # the arguments of deadline_open
    case_kind: str,
    case_id: int,
    case_reference: str,
    kind: str,
    start_at: datetime,
    amount: int,
    unit: str = "working_days",
    queue: str = "",
    assignee: Any = None,
    reminder_days: int = DEFAULT_REMINDER_DAYS,
    department_id: int | None = None,
) -> Deadline:
    if timezone.is_naive(start_at):
        start_at = timezone.make_aware(start_at)
    computation = _compute(start_at, amount, unit)
    basis = dict(computation.basis, reminder_days=reminder_days)
    return Deadline(
        case_kind=case_kind,
        case_id=case_id,
        case_reference=case_reference,
        kind=kind,
        start_at=start_at,
        unit=unit,
        amount=amount,
        due_at=computation.due_at,
        provisional=computation.provisional,
        basis=basis,
        remind_at=_remind_at(computation.due_at, start_at, reminder_days),
        queue=queue,
        assignee=assignee,
        department_id=department_id,
    )


def deadlines_open(
    specs: Sequence[dict[str, Any]], *, closing: dict[str, Any] | None = None
) -> list[Deadline]:
    """Open several deadlines at once (each ``spec`` takes :func:`deadline_open`'s arguments):
    on PostgreSQL one ``INSERT`` for all of them (``writes.insert_rows``; nothing listens to a
    deadline's ``post_save``). ``closing``: first close the case's open deadlines as
    :func:`deadlines_close_for_case` would with these arguments — a step's deadline met as the
    next one opens — in the same statement on PostgreSQL."""
    deadlines = [_new_deadline(**spec) for spec in specs]
    close = _close_statement(**closing) if closing else None  # (a wrong status: before writing)
    with transaction.atomic(savepoint=False):
        if not insert_rows(deadlines, first=close):  # one statement at a time elsewhere
            if close is not None:
                with transaction.get_connection().cursor() as cursor:
                    cursor.execute(*close)
            for deadline in deadlines:
                deadline.save(force_insert=True)
    opened = _opened.get()
    if opened is not None:
        for d in deadlines:
            opened[(d.case_kind, int(d.case_id), d.kind)] = d
    return deadlines


def deadline_close(
    *, deadline: Deadline, status: str = Deadline.Status.MET, at: datetime | None = None
) -> None:
    """Close an open deadline (``met``, ``stopped``, ``cancelled`` or ``lapsed``); a deadline
    that is already closed is left as it is."""
    if status == Deadline.Status.OPEN or status not in Deadline.Status.values:
        raise ValueError(f"cannot close a deadline with status {status!r}")
    at = at or timezone.now()
    with transaction.atomic(savepoint=False):
        changed = Deadline.objects.filter(pk=deadline.pk, status=Deadline.Status.OPEN).update(
            status=status, closed_at=at
        )
    if changed:
        deadline.status = status
        deadline.closed_at = at


def deadlines_close_for_case(
    *,
    case_kind: str,
    case_id: int,
    status: str = Deadline.Status.CANCELLED,
    kinds: list[str] | None = None,
) -> int:
    """Close every open deadline of a case (optionally only some kinds); returns how many."""
    close = _close_statement(case_kind=case_kind, case_id=case_id, status=status, kinds=kinds)
    if close is None:
        return 0
    with transaction.atomic(savepoint=False), transaction.get_connection().cursor() as cursor:
        cursor.execute(*close)
        return cursor.rowcount


def _close_statement(
    *,
    case_kind: str,
    case_id: int,
    status: str = Deadline.Status.CANCELLED,
    kinds: list[str] | None = None,
) -> tuple[str, list[Any]] | None:
    """The ``UPDATE`` that closes a case's open deadlines (:func:`deadlines_close_for_case`'s
    arguments) with the holders waiting for their close (:func:`deadline_set_assignee`), and
    its values; None when there are no kinds to close."""
    if status == Deadline.Status.OPEN or status not in Deadline.Status.values:
        raise ValueError(f"cannot close deadlines with status {status!r}")
    if kinds is not None and not kinds:
        return None
    assignees: list[tuple[int, Any]] = []  # (deadline id, user) whose close writes the holder
    waiting = _assignees.get()
    if waiting:
        mine = [
            key
            for key in waiting
            if key[:2] == (case_kind, int(case_id)) and (kinds is None or key[2] in kinds)
        ]
        for key in mine:
            assignees.append(waiting.pop(key))
    connection = transaction.get_connection()
    closed_at = Deadline._meta.get_field("closed_at")
    params: list[Any] = [status, closed_at.get_db_prep_save(timezone.now(), connection)]
    for deadline_id, user in assignees:
        params += [int(deadline_id), getattr(user, "pk", None)]
    params += [case_kind, int(case_id), Deadline.Status.OPEN, *(kinds or ())]
    sql = _close_sql(connection, None if kinds is None else len(kinds), len(assignees))
    return sql, params


# (database alias, number of kinds or None for all, number of assignees written): the close's
# UPDATE, built once — every close of a step sends it (the ORM compiled it on every call)
_CLOSE_SQL: dict[tuple[str, int | None, int], str] = {}


def _close_sql(connection: Any, kinds: int | None, assignees: int) -> str:
    key = (connection.alias, kinds, assignees)
    sql = _CLOSE_SQL.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        sets = f"{qn('status')} = %s, {qn('closed_at')} = %s"
        if assignees:
            whens = " ".join([f"WHEN {qn('id')} = %s THEN %s"] * assignees)
            sets += f", {qn('assignee_id')} = CASE {whens} ELSE {qn('assignee_id')} END"
        where = f"{qn('case_kind')} = %s AND {qn('case_id')} = %s AND {qn('status')} = %s"
        if kinds is not None:
            where += f" AND {qn('kind')} IN ({', '.join(['%s'] * kinds)})"
        sql = _CLOSE_SQL[key] = f"UPDATE {qn(Deadline._meta.db_table)} SET {sets} WHERE {where}"
    return sql


def deadline_set_assignee(
    *, deadline_id: int, user: Any, closing: tuple[str, int, str] | None = None
) -> None:
    """Record who holds the task a deadline belongs to (whom reminders go to); one UPDATE.
    ``closing=(case kind, case id, deadline kind)``: the deadline, open, is about to be closed in
    this ``deadlines_opened_here()`` block (a task completed by whoever takes it) — the close
    writes the assignee with it, or the block's end does if no close came. (A close only writes
    open deadlines: pass ``closing`` only for an open one.)"""
    waiting = _assignees.get()
    if closing is not None and waiting is not None:
        waiting[(closing[0], int(closing[1]), closing[2])] = (deadline_id, user)
        return
    Deadline.objects.filter(pk=deadline_id).update(assignee=user)


def deadline_recompute_provisional(*, by: Any = None) -> list[Deadline]:
    """Recompute every open provisional deadline with the calendar as it is now.

    A deadline changes when its due date moves or it is no longer provisional; the changed ones
    get ``basis.recomputed_at``/``basis.previous_due_at`` and are passed to every listener
    registered with :func:`on_recomputed`. Returns the changed deadlines.
    """
    now = timezone.now()
    changed: list[Deadline] = []
    with transaction.atomic(savepoint=False):
        rows = list(
            Deadline.objects.select_for_update()
            .filter(status=Deadline.Status.OPEN, provisional=True)
            .order_by("id")
        )
        for d in rows:
            computation = _compute(d.start_at, d.amount, d.unit)
            if computation.due_at == d.due_at and computation.provisional == d.provisional:
                continue
            reminder_days = int(d.basis.get("reminder_days", DEFAULT_REMINDER_DAYS))
            basis = dict(computation.basis, reminder_days=reminder_days)
            basis["recomputed_at"] = now.isoformat()
            basis["previous_due_at"] = d.due_at.isoformat()
            if getattr(by, "pk", None):
                basis["recomputed_by"] = str(by)
            d.due_at = computation.due_at
            d.provisional = computation.provisional
            d.basis = basis
            d.remind_at = _remind_at(computation.due_at, d.start_at, reminder_days)
            changed.append(d)
        if changed:
            Deadline.objects.bulk_update(
                changed, ["due_at", "provisional", "basis", "remind_at"], batch_size=500
            )
            for listener in list(_listeners):
                listener(changed)
    return changed


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------


_CASE_DEADLINES = CompiledQuery(
    lambda case_kind, case_id: Deadline.objects.filter(
        case_kind=case_kind, case_id=case_id
    ).order_by("created_at", "id"),
    str,
    int,
)


def deadlines_for_case(case_kind: str, case_id: int) -> list[Deadline]:
    """A case's deadlines, oldest first (every case page and answer shows them: compiled once)."""
    return _CASE_DEADLINES(case_kind, case_id)


STATE_LABELS = {
    "open": gettext_lazy("进行中"),
    "on_time": gettext_lazy("按期完成"),
    "stopped": gettext_lazy("已中止（等待补正）"),
    "cancelled": gettext_lazy("已取消"),
    "lapsed": gettext_lazy("已届满"),
}


def working_days_after(start: date, end: date) -> int:
    """Working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
    count, day, steps = 0, start, 0
    while day < end and steps < 3660:
        day += timedelta(days=1)
        steps += 1
        if is_working_day(day):
            count += 1
    return count


def working_day_ordinals(start: date, end: date) -> dict[date, int]:
    """For each day from ``start`` to ``end``, the working days in ``(start, day]``. The working
    days between two of these days is then a subtraction: dashboards group rows by day in SQL
    and count working days per distinct day, never per row."""
    ordinals: dict[date, int] = {}
    count, day = 0, start
    ordinals[day] = 0
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
        ordinals[day] = count
    return ordinals


def overdue_due_range(
    today: date, min_days: int, max_days: int | None
) -> tuple[date | None, date | None]:
    """The due days of deadlines that are overdue today by ``min_days``..``max_days`` working
    days, as :func:`deadline_state` counts them (a deadline overdue by less than one working day
    counts as one). Returns ``(earliest, latest)``; ``None`` means unbounded on that side."""
    needed = (max_days or min_days) + 1
    back: list[date] = []  # working days up to today, newest first
    day = today
    while len(back) < needed and (today - day).days < 3660:
        if is_working_day(day):
            back.append(day)
        day -= timedelta(days=1)
    latest = back[min_days - 1] - timedelta(days=1) if min_days > 1 else None
    earliest = back[max_days] if max_days is not None else None
    return earliest, latest


def deadline_state(d: Deadline, now: datetime | None = None) -> dict[str, Any]:
    """One reading of a deadline for every page and API: ``on_time`` / ``late`` (by how many
    working days) for a completed step, ``open`` / ``overdue`` (by how many working days) for a
    running one, ``stopped``, ``cancelled`` or ``lapsed``. A step done at 23:59:59 of its last
    day is on time; one done the next working day is one working day late."""
    now = now or timezone.now()
    due_day = timezone.localtime(d.due_at).date()
    if d.status == Deadline.Status.OPEN:
        if now <= d.due_at:
            return {"state": "open", "days_late": 0, "label": str(STATE_LABELS["open"])}
        late = max(working_days_after(due_day, timezone.localtime(now).date()), 1)
        return {
            "state": "overdue",
            "days_late": late,
            "label": _("已逾期 %(n)d 个工作日") % {"n": late},
        }
    if d.status == Deadline.Status.MET:
        closed = d.closed_at or now
        if closed <= d.due_at:
            return {"state": "on_time", "days_late": 0, "label": str(STATE_LABELS["on_time"])}
        late = max(working_days_after(due_day, timezone.localtime(closed).date()), 1)
        return {
            "state": "late",
            "days_late": late,
            "label": _("逾期完成（超出 %(n)d 个工作日）") % {"n": late},
        }
    return {"state": d.status, "days_late": 0, "label": str(STATE_LABELS.get(d.status, d.status))}


def deadline_states(deadlines: list[Deadline], now: datetime | None = None) -> list[dict[str, Any]]:
    """:func:`deadline_state` of many deadlines, counting working days once per distinct day
    (a page of 50 deadlines a year overdue walks the calendar once, not 50 times)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    days = {timezone.localtime(d.due_at).date() for d in deadlines}
    days |= {timezone.localtime(d.closed_at).date() for d in deadlines if d.closed_at}
    if not days:
        return []
    start = min(min(days), today)
    ordinals = working_day_ordinals(start, max(max(days), today))

    def after(a: date, b: date) -> int:
        return ordinals[b] - ordinals[a] if b > a else 0

    states = []
    for d in deadlines:
        due_day = timezone.localtime(d.due_at).date()
        if d.status == Deadline.Status.OPEN and now > d.due_at:
            late = max(after(due_day, today), 1)
            states.append(
                {
                    "state": "overdue",
                    "days_late": late,
                    "label": _("已逾期 %(n)d 个工作日") % {"n": late},
                }
            )
        elif d.status == Deadline.Status.MET and d.closed_at and d.closed_at > d.due_at:
            late = max(after(due_day, timezone.localtime(d.closed_at).date()), 1)
            states.append(
                {
                    "state": "late",
                    "days_late": late,
                    "label": _("逾期完成（超出 %(n)d 个工作日）") % {"n": late},
                }
            )
        else:
            states.append(deadline_state(d, now))  # no working days to count
    return states


def deadline_as_dict(d: Deadline, now: datetime | None = None) -> dict[str, Any]:
    """A deadline for APIs and pages, with its human explanation and its state."""
    state = deadline_state(d, now)
    return {
        "state": state["state"],
        "days_late": state["days_late"],
        "state_label": state["label"],
        "kind": d.kind,
        "start": timezone.localtime(d.start_at).isoformat(),
        "amount": d.amount,
        "unit": d.unit,
        "due_at": timezone.localtime(d.due_at).isoformat(),
        "provisional": d.provisional,
        "status": d.status,
        "explanation": explain(d.basis),
        "basis": d.basis,
    }
