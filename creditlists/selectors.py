"""Reads of the red and black lists: the public lists, staff reads, and the figures of the
national-platform reports for the supervisors' dashboard (reports pending and overdue as of
today; those made on time or late within the dashboard's range, or ever)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from workflow_app.accounts.models import Role
from workflow_app.registry.models import SubjectKind
from workflow_app.textsearch import contains, may_be_code

from .models import EntryStatus, ListEntry, ListType, NationalReport

MAX_QUERY = 100


def _reports(department_id: int | None) -> QuerySet[NationalReport]:
    qs = NationalReport.objects.all()
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs


def national_report_summary(
    *,
    department_id: int | None = None,
    today: datetime.date | None = None,
    reported_between: tuple[datetime.date, datetime.date] | None = None,
) -> dict[str, int]:
    """How the reports to the national platform stand today: ``pending`` (not reported, not yet
    due — the due day itself still counts as in time), ``overdue`` (not reported, past the due
    day), ``reported_on_time`` and ``reported_late`` — of every report made, or of those made
    within ``reported_between`` (inclusive; the dashboard's range). Without a range one aggregate
    query over the table; with one, the unreported rows and the range's reports are each read
    from their own index (the table keeps every report ever made)."""
    today = today or timezone.localdate()
    unreported = Q(reported_on__isnull=True)
    pending = Count("pk", filter=Q(due_date__gte=today))
    overdue = Count("pk", filter=Q(due_date__lt=today))
    on_time = Count("pk", filter=Q(reported_on__lte=F("due_date")))
    late = Count("pk", filter=Q(reported_on__gt=F("due_date")))
    if reported_between is None:
        figures = _reports(department_id).aggregate(
            pending=Count("pk", filter=unreported & Q(due_date__gte=today)),
            overdue=Count("pk", filter=unreported & Q(due_date__lt=today)),
            reported_on_time=on_time,
            reported_late=late,
        )
    else:
        figures = {
            **_reports(department_id)
            .filter(unreported)
            .aggregate(pending=pending, overdue=overdue),
            **_reports(department_id)
            .filter(reported_on__range=reported_between)
            .aggregate(reported_on_time=on_time, reported_late=late),
        }
    return {key: int(value or 0) for key, value in figures.items()}


def national_reports_overdue(
    *, department_id: int | None = None, today: datetime.date | None = None
) -> QuerySet[NationalReport]:
    """The reports not made by their due day, oldest due first, with subject, department and
    entry loaded."""
    today = today or timezone.localdate()
    return (
        _reports(department_id)
        .filter(reported_on__isnull=True, due_date__lt=today)
        .select_related("subject", "department", "entry")
        .order_by("due_date", "id")
    )


def _search(qs: QuerySet[ListEntry], q: str) -> QuerySet[ListEntry]:
    q = (q or "").replace("\x00", "").strip()[:MAX_QUERY]
    if not q:
        return qs
    cond = contains("subject__name", q, bigram_index=True)
    if may_be_code(q):  # a name in Chinese is not looked for in the codes
        cond |= Q(subject__identifier_display__icontains=q.upper())
    return qs.filter(cond)


def public_list(list_type: str, q: str = "") -> QuerySet[ListEntry]:
    """The active entries of one list that the public may read (legal persons only), newest
    first, searchable by name or 统一社会信用代码 (part of either)."""
    if list_type not in ListType.values:
        raise ValueError(f"unknown list type {list_type!r}")
    qs = (
        ListEntry.objects.filter(
            list_type=list_type,
            status=EntryStatus.ACTIVE,
            subject__kind=SubjectKind.LEGAL_PERSON,
        )
        .select_related("subject", "department")
        .order_by("-joined_on", "-id")
    )
    return _search(qs, q)


def can_read_entries(user: Any) -> bool:
    """Staff read list entries: centre, supervisors and administrators all of them, a department
    caseworker those of their own department."""
    return bool(
        user is not None
        and user.is_authenticated
        and (
            user.is_superuser
            or getattr(user, "role", None) in (Role.CENTRE, Role.SUPERVISOR, Role.ADMIN)
            or (getattr(user, "role", None) == Role.DEPARTMENT and user.department_id)
        )
    )


def entries_for(
    user: Any,
    *,
    list_type: str = "",
    status: str = "",
    department_code: str = "",
    q: str = "",
) -> QuerySet[ListEntry]:
    """The entries ``user`` may read (see :func:`can_read_entries`), newest first."""
    if not can_read_entries(user):
        return ListEntry.objects.none()
    qs = ListEntry.objects.select_related("subject", "department").order_by("-joined_at", "-id")
    if getattr(user, "role", None) == Role.DEPARTMENT and not user.is_superuser:
        qs = qs.filter(department_id=user.department_id)
    if list_type:
        qs = qs.filter(list_type=list_type)
    if status:
        qs = qs.filter(status=status)
    if department_code:
        qs = qs.filter(department__code=department_code.replace("\x00", ""))
    return _search(qs, q)


def entry_for(user: Any, pk: int) -> ListEntry | None:
    return entries_for(user).filter(pk=pk).first()


def report_for(user: Any, pk: int) -> NationalReport | None:
    """A national report the user may read (through its entry)."""
    if not can_read_entries(user):
        return None
    qs = NationalReport.objects.select_related("entry", "subject", "department").filter(pk=pk)
    if getattr(user, "role", None) == Role.DEPARTMENT and not user.is_superuser:
        qs = qs.filter(department_id=user.department_id)
    return qs.first()


def entry_reports(entry: ListEntry) -> QuerySet[NationalReport]:
    return entry.national_reports.order_by("action_date", "id")
