"""Task setup: the flows call this before a human task's first save; the deadline engine calls
:func:`tasks_sync_due_dates` when provisional deadlines are recomputed."""

from __future__ import annotations

from django.utils import timezone

from workflow_app.audit.services import audit_append
from workflow_app.cases.transitions import case_locked
from workflow_app.registry.models import Department
from workflow_app.workdays.deadlines import deadline_opened
from workflow_app.workdays.models import Deadline

from .models import CaseTask
from .registry import kind


def task_attach_deadline(task: CaseTask, *, step: str) -> None:
    """Copy the queue columns onto a new, not yet saved task from the case's open deadline for
    ``step`` (the task links to its deadline; the deadline is not written)."""
    process = task.process
    deadline = deadline_opened(process.case_kind, process.case_id, step)
    if deadline is None or deadline.status != Deadline.Status.OPEN:
        deadline = (
            Deadline.objects.filter(
                case_kind=process.case_kind, case_id=process.case_id, kind=step, status="open"
            )
            .order_by("-id")
            .first()
        )
    task.case_kind = process.case_kind
    task.case_id = process.case_id
    task.step = step
    if deadline is not None:
        task.case_reference = deadline.case_reference
        task.queue = deadline.queue
        task.deadline = deadline
        task.due_at = deadline.due_at
    k = kind(process.case_kind)
    case = case_locked(k.model, process.case_id)  # the copy the transition just saved
    if case is None or not all(
        k.model._meta.get_field(name).is_cached(case)  # type: ignore[union-attr]
        for name in k.queue_related
    ):
        case = k.model._default_manager.select_related(*k.queue_related).get(pk=process.case_id)
    row = k.queue_row(case)
    task.subject_name = str(row.get("subject_name") or "")[:200]
    task.record_title = str(row.get("record_title") or "")[:300]
    task.case_status = case.status
    task.department_id = row.get("department_id")
    if task.department_id is None and task.queue.startswith("dept:"):
        task.department = Department.objects.filter(code=task.queue[5:]).first()


def tasks_sync_due_dates(deadlines: list[Deadline]) -> int:
    """Listener for recomputed provisional deadlines: keep task due dates in step, and record the
    recomputation on each case's timeline (as a code, rendered in the reader's language)."""
    changed = 0
    for d in deadlines:
        changed += CaseTask.objects.filter(deadline_id=d.pk).update(due_at=d.due_at)
        audit_append(
            case_kind=d.case_kind,
            case_id=d.case_id,
            event="deadline",
            actor=None,
            data={
                "msg": "deadline.recomputed",
                "params": {
                    "step_kind": d.kind,
                    "due": timezone.localtime(d.due_at).strftime("%Y-%m-%d %H:%M"),
                },
                "deadline_id": d.pk,
                "due_at": d.due_at.isoformat(),
            },
        )
    return changed
