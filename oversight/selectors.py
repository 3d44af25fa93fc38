"""The supervisors' dashboard: how every workflow and department keeps its legal deadlines.

Every figure comes from grouped SQL: the deadline table (one row per step of every case kind, with
its department) grouped by workflow, department, step and *day*; the case tables grouped by
status and week; the credit records grouped by department and day. Working days are then counted
once per distinct day (:func:`working_day_ordinals`), never once per case, so the cost of a figure
grows with the number of days and departments, not with the number of cases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from creditlists import selectors as lists
from processes.registry import CaseKind, kinds
from sync.models import SyncEvent
from sync.services import EVENT_LABELS
from workflow_app.api import Forbidden, ServiceError
from workflow_app.cases.transitions import APPLICANT_QUEUE
from workflow_app.registry.models import CreditRecord, Department
from workflow_app.workdays.deadlines import (
    deadline_states,
    overdue_due_range,
    working_day_ordinals,
)
from workflow_app.workdays.models import Deadline
from workflow_app.workdays.policy import current_policy

from . import rollups

# overdue age in working days: (key, lowest, highest or None)
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-5", 1, 5),
    ("6-10", 6, 10),
    ("11-30", 11, 30),
    ("31+", 31, None),
)
WEEKS = 12
OLDEST = 10
MAX_SPAN_DAYS = 3 * 366


@dataclass(frozen=True)
class Scope:
    """What the dashboard covers: a date range, and one department or all of them."""

    date_from: datetime.date
    date_to: datetime.date
    department: Department | None
    department_locked: bool  # a department caseworker sees only their own department

    def as_params(self) -> dict[str, str]:
        params = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.department is not None:
            params["department"] = self.department.code
        return params


def _date_param(params: Any, name: str) -> datetime.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ServiceError(
            _("日期格式不正确：%(value)s。请使用 YYYY-MM-DD，例如 2026-01-31。")
            % {"value": raw[:40]},
            code="invalid_date",
            errors=[{"field": name, "message": _("请使用 YYYY-MM-DD 格式。")}],
        ) from None


def dashboard_scope(user: Any, params: Any, *, today: datetime.date | None = None) -> Scope:
    """The scope a user asked for, checked: staff only; a department caseworker is held to their
    department; dates valid, in order and at most three years apart."""
    role = getattr(user, "role", None)
    if not getattr(user, "is_staff_member", False) and role != "admin":
        raise Forbidden(_("监督看板仅供信用中心、信源单位和主管人员使用。"))
    today = today or timezone.localdate()
    date_to = _date_param(params, "date_to") or today
    date_from = _date_param(params, "date_from") or (date_to - datetime.timedelta(days=89))
    if date_from > date_to:
        raise ServiceError(
            _("开始日期不能晚于结束日期。"),
            code="invalid_range",
            errors=[{"field": "date_from", "message": _("开始日期不能晚于结束日期。")}],
        )
    if (date_to - date_from).days > MAX_SPAN_DAYS:
        raise ServiceError(
            _("统计区间最长三年，请缩短日期范围。"),
            code="invalid_range",
            errors=[{"field": "date_from", "message": _("统计区间最长三年。")}],
        )
    if role == "department":
        department = getattr(user, "department", None)
        if department is None:
            raise Forbidden(_("您的账户尚未关联信源单位，请联系管理员。"))
        return Scope(date_from, date_to, department, True)
    code = (params.get("department") or "").strip()
    department = None
    if code:
        department = Department.objects.filter(code=code[:20]).first()
        if department is None:
            raise ServiceError(
                _("部门代码不存在：%(code)s。") % {"code": code[:20]},
                code="unknown_department",
                errors=[{"field": "department", "message": _("请从列表中选择部门。")}],
            )
    return Scope(date_from, date_to, department, False)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _url(name: str, query: dict[str, Any] | None = None, args: list[Any] | None = None) -> str:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return url


def _deadlines(scope: Scope) -> QuerySet[Deadline]:
    qs = Deadline.objects.all()
    if scope.department is not None:
        qs = qs.filter(department=scope.department)
    return qs


def overdue_age_filters(now: datetime.datetime) -> dict[str, Q]:
    """For each overdue-age bucket, the open steps in it as a condition on their due time: the
    working days late of :func:`~workflow_app.workdays.deadlines.deadline_state` turned into a
    range of due days once (holidays included), so neither a figure nor the list behind it
    converts a due time per row."""
    today = timezone.localdate(now)
    filters: dict[str, Q] = {}
    for key, low, high in AGE_BUCKETS:
        earliest, latest = overdue_due_range(today, low, high)
        q = Q(due_at__lt=now)
        if latest is not None:
            q &= Q(due_at__lt=rollups.start_of(latest + datetime.timedelta(days=1)))
        if earliest is not None:
            q &= Q(due_at__gte=rollups.start_of(earliest))
        filters[key] = q
    return filters


def _weighted_median(pairs: list[tuple[int, int]]) -> float | None:
    """Median of values given as (value, how many times)."""
    total = sum(n for _v, n in pairs)
    if not total:
        return None
    pairs = sorted(pairs)
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value, n in pairs:
        while len(found) < 2 and middle[len(found)] < seen + n:
            found.append(value)
        seen += n
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


class _Days:
    """Working days between days, counted once per distinct day."""

    def __init__(self, days: set[datetime.date], today: datetime.date) -> None:
        days = {d for d in days if d is not None} | {today}
        self.start = min(days) - datetime.timedelta(days=1)
        self.ordinals = working_day_ordinals(self.start, max(days))

    def between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days ``d`` with ``start < d <= end``."""
        if end <= start:
            return 0
        return self.ordinals[end] - self.ordinals[start]


def _empty_kind_figures() -> dict[str, Any]:
    return {
        "open_steps": 0,
        "overdue": 0,
        "due_soon": 0,
        "overdue_age": {key: 0 for key, _l, _h in AGE_BUCKETS},
        "completed_30": 0,
        "on_time_30": 0,
        "completed_90": 0,
        "on_time_90": 0,
    }


def _finish(fig: dict[str, Any]) -> dict[str, Any]:
    fig["on_time_share_30"] = _share(fig["on_time_30"], fig["completed_30"])
    fig["on_time_share_90"] = _share(fig["on_time_90"], fig["completed_90"])
    return fig


def dashboard(scope: Scope, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for ``scope``, with the link behind each."""
    with rollups.live_rows_once():
        return _dashboard(scope, now=now)


def _dashboard(scope: Scope, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    # the 30/90-day windows end with the range's last day (today when the range reaches it)
    all_kinds = kinds()
    departments = {d.pk: d for d in Department.objects.all()}
    dl = _deadlines(scope)
    staff_open = dl.filter(status=Deadline.Status.OPEN).exclude(queue=APPLICANT_QUEUE)

    # 1. open staff steps by workflow, department and step (one scan of the covering index):
    # overdue, due soon, overdue age (each bucket a range of due times, the same ranges as the
    # list behind it), and (4.) the steps waiting
    ages = overdue_age_filters(now)
    step_rows = list(
        staff_open.values("case_kind", "department_id", "kind")
        .annotate(  # COUNT(*): the partial index covers every column read (index-only scan)
            n=Count("*"),
            overdue=Count("due_at", filter=Q(due_at__lt=now)),
            soon=Count("due_at", filter=Q(due_at__gte=now, remind_at__lte=now)),
            **{f"age_{i}": Count("due_at", filter=q) for i, q in enumerate(ages.values())},
        )
        .order_by()
    )
    age_keys = list(ages)
    open_totals: dict[tuple[Any, ...], list[int]] = {}
    waiting_totals: dict[tuple[Any, ...], list[int]] = {}
    for grouped in step_rows:
        row: dict[str, Any] = dict(grouped)
        key: tuple[Any, ...]
        for into, key in (
            (open_totals, (row["case_kind"], row["department_id"])),
            (waiting_totals, (row["case_kind"], row["kind"])),
        ):
            slot = into.setdefault(key, [0] * (3 + len(age_keys)))
            slot[0] += row["n"]
            slot[1] += row["overdue"]
            slot[2] += row["soon"]
            for i in range(len(age_keys)):
                slot[3 + i] += row[f"age_{i}"]
    open_rows = [
        {"case_kind": k[0], "department_id": k[1], "n": v[0], "overdue": v[1], "soon": v[2]}
        | {"ages": dict(zip(age_keys, v[3:], strict=True))}
        for k, v in open_totals.items()
    ]
    # 2. staff steps completed in the last 30 and 90 days up to the range end (days, rollups)
    department_id = scope.department.pk if scope.department is not None else None
    window_to = min(scope.date_to, today)
    pair = ("case_kind", "department_id")
    done_90 = rollups.step_totals(
        window_to - datetime.timedelta(days=89), window_to, pair, department_id
    )
    done_30 = rollups.step_totals(
        window_to - datetime.timedelta(days=29), window_to, pair, department_id
    )
    done_rows = [
        {
            "case_kind": key[0],
            "department_id": key[1],
            "n90": n90,
            "ok90": ok90,
            "n30": done_30.get(key, [0, 0])[0],
            "ok30": done_30.get(key, [0, 0])[1],
        }
        for key, (n90, ok90) in done_90.items()
    ]
    # 3. working days per completed step in the date range: by step, start day and end day
    duration_rows = [
        {"case_kind": k[0], "kind": k[1], "start_day": k[2], "end_day": k[3], "n": v[0]}
        for k, v in rollups.step_totals(
            scope.date_from, scope.date_to, ("case_kind", "step", "start_day", "day"), department_id
        ).items()
    ]
    # 4. steps waiting, by workflow and step (from the scan of 1.)
    waiting_rows = [
        {"case_kind": k[0], "kind": k[1], "n": v[0], "overdue": v[1]}
        for k, v in waiting_totals.items()
    ]
    # 5. weekly throughput: filed cases and completed steps per week, 12 weeks to the range end
    last_monday = scope.date_to - datetime.timedelta(days=scope.date_to.weekday())
    first_monday = last_monday - datetime.timedelta(weeks=WEEKS - 1)
    weeks = [first_monday + datetime.timedelta(weeks=i) for i in range(WEEKS)]
    week_last_day = last_monday + datetime.timedelta(days=6)
    weekly: dict[tuple[str, datetime.date], int] = {}
    for (kind_code, day), (n, _ok) in rollups.step_totals(
        first_monday, week_last_day, ("case_kind", "day"), department_id
    ).items():
        week = day - datetime.timedelta(days=day.weekday())
        weekly[(kind_code, week)] = weekly.get((kind_code, week), 0) + n
    filed_weekly: dict[tuple[str, datetime.date], int] = {}
    for (kind_code, day), (n,) in rollups.filed_totals(
        first_monday, week_last_day, department_id
    ).items():
        week = day - datetime.timedelta(days=day.weekday())
        filed_weekly[(kind_code, week)] = filed_weekly.get((kind_code, week), 0) + n

    days = _Days(
        {r["start_day"] for r in duration_rows} | {r["end_day"] for r in duration_rows},
        today,
    )

    per_kind: dict[str, dict[str, Any]] = {k.code: _empty_kind_figures() for k in all_kinds}
    per_dept: dict[int | None, dict[str, Any]] = {}

    def dept_fig(department_id: int | None) -> dict[str, Any]:
        if department_id not in per_dept:
            per_dept[department_id] = _empty_kind_figures() | {"open_cases": 0}
        return per_dept[department_id]

    for r in open_rows:
        for fig in (per_kind.setdefault(r["case_kind"], _empty_kind_figures()),) + (
            dept_fig(r["department_id"]),
        ):
            fig["open_steps"] += r["n"]
            fig["overdue"] += r["overdue"]
            fig["due_soon"] += r["soon"]
            for bucket, n in r["ages"].items():
                fig["overdue_age"][bucket] += n
    for done in done_rows:
        for fig in (per_kind.setdefault(done["case_kind"], _empty_kind_figures()),) + (
            dept_fig(done["department_id"]),
        ):
            fig["completed_90"] += done["n90"]
            fig["on_time_90"] += done["ok90"]
            fig["completed_30"] += done["n30"]
            fig["on_time_30"] += done["ok30"]

    durations: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for dr in duration_rows:
        durations.setdefault((dr["case_kind"], dr["kind"]), []).append(
            (days.between(dr["start_day"], dr["end_day"]), dr["n"])
        )
    waiting: dict[str, list[dict[str, Any]]] = {}
    for wr in waiting_rows:
        waiting.setdefault(wr["case_kind"], []).append(dict(wr))

    base = scope.as_params()
    dept_param = scope.department.code if scope.department is not None else ""
    workflows = []
    for k in all_kinds:
        fig = _finish(per_kind[k.code])
        open_cases = _open_cases_by_department(k, scope)
        steps = _step_labels(k)
        list_url = _url(f"{k.code}-list")
        workflows.append(
            {
                "kind": k.code,
                "label": str(k.label),
                "open_cases": sum(open_cases.values()),
                **fig,
                "median_working_days": [
                    {
                        "step": step,
                        "label": steps.get(step, step),
                        "completed": sum(n for _v, n in pairs),
                        "median": _weighted_median(pairs),
                    }
                    for (kind_code, step), pairs in sorted(durations.items())
                    if kind_code == k.code
                ],
                "waiting": [
                    {
                        "step": r["kind"],
                        "label": steps.get(r["kind"], r["kind"]),
                        "open": r["n"],
                        "overdue": r["overdue"],
                        "url": _url(
                            "dashboard-steps",
                            {**base, "kind": k.code, "step": r["kind"], "state": "open"},
                        ),
                    }
                    for r in sorted(waiting.get(k.code, []), key=lambda r: -r["n"])
                ],
                "weekly": [
                    {
                        "week": w.isoformat(),
                        "filed": filed_weekly.get((k.code, w), 0),
                        "completed": weekly.get((k.code, w), 0),
                    }
                    for w in weeks
                ],
                "urls": {
                    "open_cases": list_url
                    and _url(f"{k.code}-list", {"status": "open", "department": dept_param}),
                    "overdue": _url(
                        "dashboard-steps", {**base, "kind": k.code, "state": "overdue"}
                    ),
                    "due_soon": _url(
                        "dashboard-steps", {**base, "kind": k.code, "state": "due_soon"}
                    ),
                    "overdue_age": {
                        key: _url(
                            "dashboard-steps",
                            {**base, "kind": k.code, "state": "overdue", "age": key},
                        )
                        for key, _l, _h in AGE_BUCKETS
                    },
                    "late_90": _url("dashboard-steps", {**base, "kind": k.code, "state": "late"}),
                },
                "_open_cases_by_department": open_cases,
            }
        )

    # per department: every workflow's figures together, and each workflow's open cases
    codes_by_id = {pk: d.code for pk, d in departments.items()}
    open_cases_total: dict[int | None, int] = {}
    for w in workflows:
        for department_id, n in w.pop("_open_cases_by_department").items():
            open_cases_total[department_id] = open_cases_total.get(department_id, 0) + n
            dept_fig(department_id)
    department_rows = []
    for department_id, fig in per_dept.items():
        fig = _finish(fig)
        fig["open_cases"] = open_cases_total.get(department_id, 0)
        d = departments.get(department_id) if department_id is not None else None
        code = codes_by_id.get(department_id, "") if department_id is not None else ""
        department_rows.append(
            {
                "code": code,
                "name": d.display_name if d is not None else _("（未关联部门）"),
                **fig,
                "urls": {
                    "overdue": _url(
                        "dashboard-steps",
                        {**base, "department": code, "state": "overdue"},
                    )
                    if code
                    else "",
                    "dashboard": _url("dashboard", {**base, "department": code}) if code else "",
                },
            }
        )
    department_rows.sort(key=lambda r: (-r["overdue"], -r["open_steps"], r["code"]))

    totals = _finish(_empty_kind_figures())
    for w in workflows:
        for name in (
            "open_steps",
            "overdue",
            "due_soon",
            "completed_30",
            "on_time_30",
            "completed_90",
            "on_time_90",
        ):
            totals[name] += w[name]
        for bucket in totals["overdue_age"]:
            totals["overdue_age"][bucket] += w["overdue_age"][bucket]
    totals = _finish(totals)
    totals["open_cases"] = sum(w["open_cases"] for w in workflows)

    return {
        "scope": {
            "date_from": scope.date_from.isoformat(),
            "date_to": scope.date_to.isoformat(),
            "department": dept_param or None,
            "department_locked": scope.department_locked,
            "generated_at": timezone.localtime(now).isoformat(),
            "generated_display": f"{timezone.localtime(now):%Y-%m-%d %H:%M}",
        },
        "totals": totals,
        "workflows": workflows,
        "departments": department_rows,
        "oldest_overdue": oldest_overdue(scope, now=now, limit=OLDEST),
        "sync": sync_figures(scope, now=now),
        "double_publicity": double_publicity(scope, today=today),
        "national_reports": national_reports(scope, today=today),
        "age_buckets": [key for key, _l, _h in AGE_BUCKETS],
    }


def _step_labels(k: CaseKind) -> dict[str, str]:
    labels = {code: str(label) for code, label in k.deadline_labels.items()}
    return labels


def _open_cases_by_department(k: CaseKind, scope: Scope) -> dict[int | None, int]:
    """Cases of kind ``k`` still in progress, counted per department (one GROUP BY).

    A kind whose department is a column of the case (commitments) is counted on the case table.
    A kind whose department is its credit record's (objections, repairs) is counted from the
    deadline table, which carries the department: each of their open statuses has a running
    deadline (a step's, or the applicant's supplement period) and no closed case has one, so the
    distinct cases with an open deadline are the open cases — read from one covering index
    instead of joining every open case to the records table (tested against the case table in
    tests/oversight/test_open_cases.py).
    """
    path = k.department_field.removesuffix("__code") + "_id"
    if "__" not in path:
        qs = k.model.objects.filter(status__in=k.open_statuses)
        if scope.department is not None:
            qs = qs.filter(**{path: scope.department.pk})
        rows = qs.values(path).annotate(n=Count("pk")).order_by()
        return {r[path]: r["n"] for r in rows}
    open_deadlines = Deadline.objects.filter(status=Deadline.Status.OPEN, case_kind=k.code)
    if scope.department is not None:
        open_deadlines = open_deadlines.filter(department=scope.department)
    rows = (
        open_deadlines.values("department_id")
        .annotate(n=Count("case_id", distinct=True))
        .order_by()
    )
    return {r["department_id"]: r["n"] for r in rows}


# --- the lists behind the figures ---------------------------------------------------------------

STEP_STATES = ("open", "overdue", "due_soon", "late", "on_time")


def steps_queryset(scope: Scope, params: Any, *, now: datetime.datetime | None = None) -> Any:
    """The steps (deadlines) behind a dashboard figure: by workflow, step, state and overdue age.
    ``late``/``on_time`` are steps completed in the scope's date range."""
    now = now or timezone.now()
    qs = _deadlines(scope).exclude(queue=APPLICANT_QUEUE).select_related("department", "assignee")
    codes = {k.code for k in kinds()}
    kind_code = params.get("kind") or ""
    if kind_code in codes:
        qs = qs.filter(case_kind=kind_code)
    step = (params.get("step") or "").strip()[:40]
    if step:
        qs = qs.filter(kind=step)
    state = params.get("state") or "overdue"
    if state not in STEP_STATES:
        state = "overdue"
    if state in ("open", "overdue", "due_soon"):
        qs = qs.filter(status=Deadline.Status.OPEN)
        if state == "overdue":
            qs = qs.filter(due_at__lt=now)
            age = params.get("age") or ""
            if age in dict.fromkeys(key for key, _l, _h in AGE_BUCKETS):
                qs = qs.filter(overdue_age_filters(now)[age])
        elif state == "due_soon":
            qs = qs.filter(due_at__gte=now, remind_at__lte=now)
        return qs.order_by("due_at", "id"), state
    qs = qs.filter(
        status=Deadline.Status.MET,
        closed_at__gte=rollups.start_of(scope.date_from),
        closed_at__lt=rollups.start_of(scope.date_to + datetime.timedelta(days=1)),
    )
    if state == "late":
        qs = qs.filter(closed_at__gt=F("due_at"))
    else:
        qs = qs.filter(closed_at__lte=F("due_at"))
    return qs.order_by("-closed_at", "-id"), state


def oldest_overdue(
    scope: Scope, *, now: datetime.datetime | None = None, limit: int = OLDEST
) -> list[dict[str, Any]]:
    now = now or timezone.now()
    labels = kind_labels()
    rows = list(
        _deadlines(scope)
        .filter(status=Deadline.Status.OPEN, due_at__lt=now)
        .exclude(queue=APPLICANT_QUEUE)
        .select_related("department", "assignee")
        .order_by("due_at", "id")[:limit]
    )
    states = deadline_states(rows, now)
    return [step_as_dict(d, labels, state=st) for d, st in zip(rows, states, strict=True)]


def step_as_dict(
    d: Deadline,
    labels: dict[str, tuple[CaseKind, dict[str, str]]],
    *,
    state: dict[str, Any],
) -> dict[str, Any]:
    k, steps = labels.get(d.case_kind, (None, {}))
    return {
        "id": d.pk,
        "kind": d.case_kind,
        "kind_label": str(k.label) if k is not None else d.case_kind,
        "case_id": d.case_id,
        "case_reference": d.case_reference,
        "case_url": _url(f"{d.case_kind}-detail", args=[d.case_id]),
        "step": d.kind,
        "step_label": steps.get(d.kind, d.kind),
        "department": d.department.code if d.department is not None else None,
        "department_name": d.department.display_name if d.department is not None else "",
        "assignee": d.assignee.username if d.assignee is not None else None,
        "queue": d.queue,
        "start_at": timezone.localtime(d.start_at).isoformat(),
        "due_at": timezone.localtime(d.due_at).isoformat(),
        "due_display": f"{timezone.localtime(d.due_at):%Y-%m-%d %H:%M}",
        "closed_at": timezone.localtime(d.closed_at).isoformat() if d.closed_at else None,
        "state": state["state"],
        "state_label": state["label"],
        "days_late": state["days_late"],
    }


def kind_labels() -> dict[str, tuple[CaseKind, dict[str, str]]]:
    return {k.code: (k, _step_labels(k)) for k in kinds()}


# --- synchronisation, 双公示, national reports ----------------------------------------------------


def _sync_queryset(scope: Scope) -> QuerySet[SyncEvent]:
    qs = SyncEvent.objects.exclude(status=SyncEvent.Status.DELIVERED)
    if scope.department is not None:
        # a row carries its record's department; one written by a process still running the
        # code before that (during an upgrade) has none, and is found through its record
        of_record = CreditRecord.objects.filter(
            pk=OuterRef("record_id"), department=scope.department
        )
        qs = qs.filter(
            Q(department=scope.department) | Q(Exists(of_record), department__isnull=True)
        )
    return qs


def sync_figures(scope: Scope, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    figures = _sync_queryset(scope).aggregate(
        undelivered=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        failed=Count("id", filter=Q(status=SyncEvent.Status.FAILED)),
    )
    figures["url"] = _url("dashboard-sync", scope.as_params())
    return figures


def sync_overdue_queryset(scope: Scope, *, now: datetime.datetime | None = None) -> Any:
    now = now or timezone.now()
    return (
        _sync_queryset(scope)
        .filter(due_at__lt=now)
        .select_related("target")
        .order_by("due_at", "id")
    )


def _part(value: Any, key: str) -> dict[str, Any]:
    """``value[key]`` when both are objects, else {} (a payload is what was sent, not checked)."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _payload_record(e: SyncEvent) -> dict[str, Any]:
    return _part(e.payload, "record")


def sync_row_as_dict(
    e: SyncEvent, kind_names: dict[str, str], departments: dict[str, Department]
) -> dict[str, Any]:
    """An undelivered synchronisation row as the supervisor chasing it reads it: which record
    (title, its department's and subject's names, as sent) and which case it is about, from the
    payload the row carries — no read per row."""
    record = _payload_record(e)
    case = _part(e.payload, "case")
    department = departments.get(record.get("department") or "")
    return {
        "event": e,
        "kind_label": kind_names.get(e.case_kind, ""),
        "event_label": str(EVENT_LABELS.get(e.event, e.event)),
        "case_reference": case.get("reference") or "",
        "case_url": _url(f"{e.case_kind}-detail", args=[e.case_id]) if e.case_id else None,
        "record_title": record.get("title") or "",
        "external_id": record.get("external_id") or "",
        "subject_name": _part(record, "subject").get("name") or "",
        "department_name": department.display_name
        if department is not None
        else record.get("department") or "",
    }


def sync_overdue_rows(events: list[SyncEvent]) -> list[dict[str, Any]]:
    kind_names = {k.code: str(k.label) for k in kinds()}
    codes = {_payload_record(e).get("department") for e in events} - {None}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)} if codes else {}
    return [sync_row_as_dict(e, kind_names, departments) for e in events]


def publicity_days_allowed() -> int:
    return int(current_policy()[1].get("double_publicity_days", 10))


def double_publicity(scope: Scope, *, today: datetime.date | None = None) -> dict[str, Any]:
    """双公示 timeliness: for each licence and penalty record first pushed in the range, the
    working days from its decision to its push; per department the on-time share and the late
    records. Grouped by (department, decision day, push day), counted per distinct day pair."""
    today = today or timezone.localdate()
    allowed = publicity_days_allowed()
    department_id = scope.department.pk if scope.department is not None else None
    rows = [
        {"department_id": k[0], "decision_date": k[1], "pushed_day": k[2], "n": v[0]}
        for k, v in rollups.publicity_totals(scope.date_from, scope.date_to, department_id).items()
    ]
    days = _Days({r["decision_date"] for r in rows} | {r["pushed_day"] for r in rows}, today)
    per: dict[int, dict[str, int]] = {}
    for r in rows:
        fig = per.setdefault(r["department_id"], {"pushed": 0, "late": 0})
        fig["pushed"] += r["n"]
        if days.between(r["decision_date"], r["pushed_day"]) > allowed:
            fig["late"] += r["n"]
    departments = Department.objects.in_bulk(list(per))
    base = scope.as_params()
    result: list[dict[str, Any]] = []
    for department_id, fig in per.items():
        d = departments.get(department_id)
        on_time = fig["pushed"] - fig["late"]
        result.append(
            {
                "code": d.code if d else "",
                "name": d.display_name if d else "",
                "pushed": fig["pushed"],
                "on_time": on_time,
                "late": fig["late"],
                "on_time_share": _share(on_time, fig["pushed"]),
                "late_url": _url(
                    "dashboard-publicity", {**base, "department": d.code if d else ""}
                ),
            }
        )
    result.sort(key=lambda r: (-(r["late"]), r["code"]))
    pushed = sum(r["pushed"] for r in result)
    late = sum(r["late"] for r in result)
    return {
        "days_allowed": allowed,
        "pushed": pushed,
        "late": late,
        "on_time": pushed - late,
        "on_time_share": _share(pushed - late, pushed),
        "departments": result,
        "url": _url("dashboard-publicity", base),
    }


def late_publicity_queryset(scope: Scope, *, today: datetime.date | None = None) -> Any:
    """The late 双公示 records of the scope: pushed after the working day on which the allowed
    period ended. The cutoff is computed once per distinct decision day, then one query."""
    from django.db.models import Case, DateField, Value, When

    from workflow_app.workdays.calendar import add_working_days

    allowed = publicity_days_allowed()
    base = rollups.publicity_base(
        rollups.start_of(scope.date_from),
        rollups.start_of(scope.date_to + datetime.timedelta(days=1)),
        scope.department.pk if scope.department is not None else None,
    )
    decision_days = list(base.values_list("decision_date", flat=True).distinct().order_by())
    if not decision_days:
        return base.none()
    # pushed on or after the day after the last allowed day → late
    whens = [
        When(
            decision_date=day,
            then=Value(
                timezone.localtime(add_working_days(day, allowed).due_at).date()
                + datetime.timedelta(days=1)
            ),
        )
        for day in decision_days
    ]
    return (
        base.annotate(
            late_from=Case(*whens, output_field=DateField()), pushed_day=TruncDate("created_at")
        )
        .filter(pushed_day__gte=F("late_from"))
        .select_related("department", "subject")
        .order_by("-created_at", "-id")
    )


def working_days_since(day: datetime.date, today: datetime.date) -> int:
    from workflow_app.workdays.deadlines import working_days_after

    return working_days_after(day, today)


def publicity_working_days(record: CreditRecord) -> int:
    from workflow_app.workdays.deadlines import working_days_after

    return working_days_after(record.decision_date, timezone.localtime(record.created_at).date())


def national_reports(scope: Scope, *, today: datetime.date | None = None) -> dict[str, Any]:
    """Red/black list entries' reports to the national platform (10 working days, 珠海)."""
    department_id = scope.department.pk if scope.department is not None else None
    summary: dict[str, Any] = dict(
        lists.national_report_summary(
            department_id=department_id,
            today=today,
            reported_between=(scope.date_from, scope.date_to),
        )
    )
    summary["url"] = _url("dashboard-national-reports", scope.as_params())
    return summary


def national_reports_overdue(scope: Scope, *, today: datetime.date | None = None) -> Any:
    department_id = scope.department.pk if scope.department is not None else None
    return lists.national_reports_overdue(department_id=department_id, today=today)


def home_section(user: Any) -> dict[str, Any] | None:
    """The staff home page's panel: a department sees its own 双公示 timeliness (last 90 days);
    supervisors and the centre a link to the dashboard with the overdue total."""
    try:
        scope = dashboard_scope(user, {})
    except ServiceError:
        return None
    if scope.department_locked:
        return {
            "template": "oversight/_home_department.html",
            "publicity": double_publicity(scope),
            "dashboard_url": _url("dashboard"),
        }
    return {"template": "oversight/_home_dashboard.html", "dashboard_url": _url("dashboard")}
