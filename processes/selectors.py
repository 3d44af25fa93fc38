"""Queue reads: one indexed query on the task table, oldest deadline first."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from workflow_app.workdays.calendar import add_working_days

from .models import OPEN_TASK_STATUSES, CaseTask

SOON_WORKING_DAYS = 2


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
    if kind:
        qs = qs.filter(case_kind=kind)
    if step:
        qs = qs.filter(step=step)
    if department:
        qs = qs.filter(queue=f"dept:{department}")
    now = timezone.now()
    if due == "overdue":
        qs = qs.filter(due_at__lt=now)
    elif due == "soon":
        qs = qs.filter(due_at__gte=now, due_at__lt=soon_threshold(now))
    return qs.select_related("owner").order_by("due_at", "id")


def queue_counts_for(user: Any) -> dict[str, int]:
    qs = task_queue_for(user)
    now = timezone.now()
    return {
        "open": qs.count(),
        "overdue": qs.filter(due_at__lt=now).count(),
        "due_soon": qs.filter(due_at__gte=now, due_at__lt=soon_threshold(now)).count(),
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
        "due_soon": bool(task.due_at and soon and now <= task.due_at < soon),
        "assignee": task.owner.username if task.owner_id else None,  # type: ignore[union-attr]
        "status": task.status,
    }


def open_task_for_case(kind: str, case_id: int) -> CaseTask | None:
    return (
        CaseTask.objects.filter(case_kind=kind, case_id=case_id, status__in=OPEN_TASK_STATUSES)
        .exclude(queue="")
        .select_related("owner")
        .first()
    )
