"""Queue reads: one indexed query on the task table, oldest deadline first."""

from __future__ import annotations

import re
from typing import Any

import orjson
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from workflow_app.compiled import CompiledQuery, CompiledRows
from workflow_app.registry.bulk import ManyJson
from workflow_app.textsearch import contains, may_be_code
from workflow_app.workdays.calendar import add_working_days

from .models import OPEN_TASK_STATUSES, CaseTask

SOON_WORKING_DAYS = 2

# What a queue row needs; loading whole tasks would decode viewflow's flow references per row.
QUEUE_COLUMNS = (
    "id",
    "status",
    "case_kind",
    "case_id",
    "case_reference",
    "step",
    "queue",
    "due_at",
    "created",
    "subject_name",
    "record_title",
    "case_status",
    "department__code",
    "department__name",
    "department__name_en",
    "owner__username",
)

# ?sort= values of the queue and the task API: deadline (default), newest deadline first, and
# the order tasks arrived in.
SORTS = {
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "received": ("created", "id"),
    "-received": ("-created", "-id"),
}


def soon_threshold(now: Any = None) -> Any:
    """Tasks due before this moment are "due soon" (within two working days)."""
    return add_working_days(now or timezone.now(), SOON_WORKING_DAYS).due_at


def task_queue_for(
    user: Any,
    *,
    kind: str | None = None,
    step: str | None = None,
    department: str | None = None,
    due: str | None = None,
    mine: bool = False,
    unassigned: bool = False,
) -> QuerySet[CaseTask]:
    """Open human tasks the user may act on: their own, and the unclaimed tasks of their groups.
    Supervisors see every open task (they assign and handle escalations)."""
    qs = CaseTask.objects.filter(status__in=OPEN_TASK_STATUSES).exclude(queue="")
    if not (user.is_authenticated and user.is_staff_member):
        return qs.none()
    if mine:
        qs = qs.filter(owner=user)
    elif not user.is_supervisor:
        qs = qs.filter(Q(owner=user) | Q(owner__isnull=True, queue__in=user.queues()))
    if unassigned:
        qs = qs.filter(owner__isnull=True)
    qs = _filtered(qs, kind=kind, step=step, department=department, due=due)
    return qs.select_related("owner").order_by("due_at", "id")


def _filtered(
    qs: QuerySet[CaseTask],
    *,
    kind: str | None,
    step: str | None,
    department: str | None,
    due: str | None,
) -> QuerySet[CaseTask]:
    if kind:
        qs = qs.filter(case_kind=kind)
    if step:
        qs = qs.filter(step=step)
    if department:
        # the department the case is about, whichever group holds the step
        qs = qs.filter(department__code=department)
    now = timezone.now()
    if due == "overdue":
        qs = qs.filter(due_at__lt=now)
    elif due == "soon":
        qs = qs.filter(due_at__gte=now, due_at__lte=soon_threshold(now))
    return qs


def task_queue_page(
    user: Any,
    *,
    offset: int = 0,
    limit: int = 50,
    kind: str | None = None,
    step: str | None = None,
    department: str | None = None,
    due: str | None = None,
    mine: bool = False,
    sort: str = "due",
) -> tuple[list[CaseTask], bool]:
    """One page of the user's queue, oldest deadline first, and whether more follow.

    The queue is "my tasks" plus "the unclaimed tasks of my groups". Each part is read from its
    own partial index in deadline order and only ``offset + limit + 1`` rows deep, then merged
    (UNION ALL) — so a page costs the same with 20 or 20,000 open tasks. No total count is taken.
    """
    if not (user.is_authenticated and user.is_staff_member):
        return [], False
    depth = offset + limit + 1
    unfiltered = not (kind or step or department or due)
    if unfiltered and offset == 0 and limit == 50 and connection.vendor == "postgresql":
        # the view every caseworker opens: its ids query compiled once per queue shape
        ids = _first_page_ids(user, mine=mine, sort=sort if sort in SORTS else "due", depth=depth)
    else:
        ids = _page_ids(
            user,
            offset=offset,
            depth=depth,
            filters={"kind": kind, "step": step, "department": department, "due": due},
            mine=mine,
            sort=sort,
        )
    if not ids:
        found = []
    elif connection.vendor == "postgresql":
        found = _QUEUE_ROWS(orjson.dumps(ids[:limit]).decode())
    else:
        found = list(_queue_rows(ids[:limit]))
    rows = {t.pk: t for t in found}
    return [rows[i] for i in ids[:limit] if i in rows], len(ids) > limit


def _page_ids(
    user: Any, *, offset: int, depth: int, filters: dict[str, Any], mine: bool, sort: str
) -> list[int]:
    """The ids of a queue page, ``offset`` to ``depth``, through the ORM (any filter, any page)."""
    open_tasks = CaseTask.objects.filter(status__in=OPEN_TASK_STATUSES)
    if mine:
        branches = [open_tasks.filter(owner=user)]
    elif user.is_supervisor:
        branches = [open_tasks.exclude(queue="")]
    else:
        branches = [
            open_tasks.filter(owner=user),
            open_tasks.filter(owner__isnull=True, queue__in=user.queues()),
        ]
    branches = [_filtered(b, **filters) for b in branches]
    order = SORTS.get(sort, SORTS["due"])
    key = order[0].lstrip("-")
    if len(branches) == 1:
        return list(branches[0].order_by(*order).values_list("id", flat=True)[offset:depth])
    if connection.features.supports_slicing_ordering_in_compound:
        parts = [b.order_by(*order).values_list(key, "id")[:depth] for b in branches]
        merged = parts[0].union(*parts[1:], all=True).order_by(*order)
        return [row[1] for row in merged[offset:depth]]
    # SQLite: small data, one query with OR
    combined = branches[0]
    for b in branches[1:]:
        combined = combined | b
    return list(combined.order_by(*order).values_list("id", flat=True)[offset:depth])


_FIRST_PAGES: dict[tuple[Any, ...], CompiledRows] = {}


def _first_page_ids(user: Any, *, mine: bool, sort: str, depth: int) -> list[int]:
    """The ids of an unfiltered queue's first page, as ``task_queue_page`` reads them, from a
    query compiled once per shape (workflow_app/compiled.py): building the ``UNION ALL`` took
    a fifth of the queue API's CPU. A user's groups stay constants in the SQL — ``queue IN
    ('centre')`` lets each branch walk its partial index in deadline order and stop at the
    page's depth, which a parameter array would not."""
    if mine:
        shape: tuple[Any, ...] = ("mine",)
    elif user.is_supervisor:
        shape = ("all",)
    else:
        shape = ("groups", *sorted(user.queues()))
    cache_key = (*shape, sort, depth)
    query = _FIRST_PAGES.get(cache_key)
    if query is None:
        order = SORTS[sort]
        key = order[0].lstrip("-")
        open_tasks = CaseTask.objects.filter(status__in=OPEN_TASK_STATUSES)
        if shape[0] == "all":
            query = CompiledRows(
                lambda: open_tasks.exclude(queue="").order_by(*order).values_list(key, "id")[:depth]
            )
        elif shape[0] == "mine":
            query = CompiledRows(
                lambda owner_id: (
                    open_tasks.filter(owner_id=owner_id)
                    .order_by(*order)
                    .values_list(key, "id")[:depth]
                ),
                int,
            )
        else:
            queues = list(shape[1:])

            def build(owner_id: int) -> QuerySet[CaseTask]:
                parts = [
                    b.order_by(*order).values_list(key, "id")[:depth]
                    for b in (
                        open_tasks.filter(owner_id=owner_id),
                        open_tasks.filter(owner__isnull=True, queue__in=queues),
                    )
                ]
                return parts[0].union(parts[1], all=True).order_by(*order)[:depth]

            query = CompiledRows(build, int)
        _FIRST_PAGES[cache_key] = query
    rows = query() if shape[0] == "all" else query(user.pk)
    return [row[1] for row in rows]


def _queue_rows(ids: Any) -> QuerySet[CaseTask]:
    return (
        CaseTask.objects.filter(pk__in=ids)
        .select_related("owner", "department")
        .only(*QUEUE_COLUMNS)
        .order_by()
    )


# a page's rows, compiled once (workflow_app/compiled.py) with the ids as one parameter: every
# queue view reads them, and building this query cost a page more CPU than reading the rows
_QUEUE_ROWS = CompiledQuery(
    lambda ids: (
        CaseTask.objects.filter(pk__any_of=ManyJson(ids))
        .select_related("owner", "department")
        .only(*QUEUE_COLUMNS)
        .order_by()
    ),
    str,
)


def queue_counts_for(user: Any) -> dict[str, int]:
    qs = task_queue_for(user)
    now = timezone.now()
    return {
        "open": qs.count(),
        "overdue": qs.filter(due_at__lt=now).count(),
        "due_soon": qs.filter(due_at__gte=now, due_at__lte=soon_threshold(now)).count(),
    }


def task_as_dict(task: CaseTask, *, now: Any = None, soon: Any = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": task.pk,
        "kind": task.case_kind,
        "case_id": task.case_id,
        "reference": task.case_reference,
        "step": task.step,
        "queue": task.queue,
        "deadline": task.due_at.isoformat() if task.due_at else None,
        "overdue": bool(task.due_at and task.due_at < now),
        "due_soon": bool(task.due_at and soon and now <= task.due_at <= soon),
        "assignee": task.owner.username if task.owner_id else None,  # type: ignore[union-attr]
        "status": task.status,
        "subject": task.subject_name,
        "record": task.record_title,
        "case_status": task.case_status,
        "department": task.department.code if task.department_id else None,  # type: ignore[union-attr]
    }


def open_task_for_case(kind: str, case_id: int) -> CaseTask | None:
    return (
        CaseTask.objects.filter(case_kind=kind, case_id=case_id, status__in=OPEN_TASK_STATUSES)
        .exclude(queue="")
        .select_related("owner")
        .first()
    )


# what a pasted case reference looks like: one word of letters and digits, mostly digits
# (YY20260000001, XF20260000001, 44031020261207000001)
_WHOLE_REFERENCE = re.compile(r"(?=(?:[A-Z]*\d){8})[A-Z0-9]{10,40}")


SEARCH_SUBJECTS_LISTED = 500  # below SQLite's limit of variables


def _search(k: Any, q: str) -> Q:
    """The case list's search. A whole case reference, or a whole 统一社会信用代码 / resident ID,
    is looked up through its index — what a caseworker pastes (a contains-search read every
    case: 0.6–1.8 s at 400,000 objections; these take a few milliseconds). Other text is looked
    for within the reference, the subject's name and shown identifier and the kind's other
    search fields — text no reference or identifier can contain (a name in Chinese) only in the
    names and text fields. The subjects it names are found first (their trigram index on
    PostgreSQL); if they are few, the cases are those subjects' (by their index) or those with
    the text in their own fields (by the trigram index of each), which PostgreSQL ORs through
    both indexes; if many (a common word), the list walks the cases in filing order, checking
    each, and meets enough of them soon. Text of two characters has no trigram: the subjects'
    names are looked up in their bigram index instead (a whole read of the subjects took
    0.13–0.19 s at 1,000,000)."""
    from workflow_app.registry.bulk import Many
    from workflow_app.registry.models import Subject
    from workflow_app.registry.selectors import subject_by_identifier

    ref = q.upper()
    own_text = [f for f in k.search_fields if f != "reference" and not f.startswith("subject__")]
    # the kind's own text besides the reference (a commitment's matter title) may hold the
    # pasted text too: looked for as well (through its trigram index)
    if _WHOLE_REFERENCE.fullmatch(ref) and k.model.objects.filter(reference=ref).exists():
        return Q(reference=ref) | _contains(own_text, q)
    subject = subject_by_identifier(q)
    if subject is not None:
        return Q(subject=subject) | _contains(own_text, q)
    fields = list(k.search_fields)
    if not may_be_code(q):
        fields = [f for f in fields if f not in ("reference", "subject__identifier_display")]
    of_subject = [f.removeprefix("subject__") for f in fields if f.startswith("subject__")]
    ids = list(
        Subject.objects.filter(_contains(of_subject, q, bigram_indexed=("name",)))
        .order_by()
        .values_list("pk", flat=True)[: SEARCH_SUBJECTS_LISTED + 1]
    )
    if len(ids) > SEARCH_SUBJECTS_LISTED:
        return _contains(fields, q)
    own = _contains([f for f in fields if not f.startswith("subject__")], q)
    if connection.vendor == "postgresql":
        return own | Q(subject_id__any_of=Many(ids))
    return own | Q(subject_id__in=ids)


def _contains(fields: list[str], q: str, *, bigram_indexed: tuple[str, ...] = ()) -> Q:
    """Any of ``fields`` holds ``q`` (case-insensitively; ``bigram_indexed``: those of them
    with a bigram index, workflow_app/textsearch.py); no fields: an empty ``Q``, which an OR
    with another condition leaves out."""
    cond = Q()
    for f in fields:
        cond |= contains(f, q, bigram_index=f in bigram_indexed)
    return cond


def case_list_queryset(k: Any, user: Any, params: Any) -> tuple[QuerySet[Any], dict[str, str]]:
    """Every case of kind ``k`` that ``user`` may see, filtered as the case list and its exports
    are: status, search (reference, subject code or name), department (staff), filing dates
    (``filed_from`` / ``filed_to``, inclusive, YYYY-MM-DD) and ``overdue`` (an open deadline
    has passed). Returns the queryset and the filters applied (what an export records)."""
    import datetime

    qs = k.visible_to(user).order_by(*k.order_by)
    applied: dict[str, str] = {}
    status = params.get("status") or ""
    if status in k.status_labels():
        qs = qs.filter(status=status)
        applied["status"] = status
    elif status == "open":  # every status of a case still in progress (dashboard links)
        qs = qs.filter(status__in=k.open_statuses)
        applied["status"] = status
    q = (params.get("q") or "").strip()[:100]
    if q:
        qs = qs.filter(_search(k, q))
        applied["q"] = q
    department = params.get("department") or ""
    if department and getattr(user, "is_staff_member", False):
        qs = qs.filter(**{k.department_field: department})
        applied["department"] = department
    for name, lookup in (("filed_from", "gte"), ("filed_to", "lte")):
        raw = (params.get(name) or "").strip()
        try:
            day = datetime.date.fromisoformat(raw) if raw else None
        except ValueError:
            day = None
        if day is not None:
            qs = qs.filter(**{f"{k.filed_field}__date__{lookup}": day})
            applied[name] = day.isoformat()
    if params.get("overdue") in ("1", "true", "on"):
        from workflow_app.workdays.models import Deadline

        overdue = Deadline.objects.filter(
            case_kind=k.code, status=Deadline.Status.OPEN, due_at__lt=timezone.now()
        ).values("case_id")
        qs = qs.filter(pk__in=overdue)
        applied["overdue"] = "1"
    return qs, applied
