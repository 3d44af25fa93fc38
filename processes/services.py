"""Queue services: claim, release, assign, complete; and the application services that move a flow
after a domain service (filing, supplement, withdrawal, lapse).

Lock order everywhere: process row → task row → domain row. Two caseworkers completing one task
serialise on the task row; the second sees the task done and gets a 409.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from objections import services as objection_services
from objections.models import Objection
from workflow_app.accounts.models import User
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.audit.services import audit_append
from workflow_app.workdays.deadlines import deadline_set_assignee
from workflow_app.workdays.models import Deadline

from .models import OPEN_TASK_STATUSES, CaseProcess, CaseTask

# --- task setup (called by the flows when a human task is created) -----------------------------


def task_attach_deadline(task: CaseTask, *, step: str) -> None:
    """Copy the queue columns onto a new task from the case's open deadline for ``step``."""
    process = task.process
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
        deadline.task_id = task.pk
        deadline.save(update_fields=["task_id"])
    if task.queue.startswith("dept:"):
        from workflow_app.registry.models import Department

        task.department = Department.objects.filter(code=task.queue[5:]).first()
    task.save()


def tasks_sync_due_dates(deadlines: list[Deadline]) -> int:
    """Listener for recomputed provisional deadlines: keep task due dates in step, and record the
    recomputation on each case's timeline."""
    changed = 0
    for d in deadlines:
        changed += CaseTask.objects.filter(deadline_id=d.pk).update(due_at=d.due_at)
        audit_append(
            case_kind=d.case_kind,
            case_id=d.case_id,
            event="deadline",
            actor=None,
            reason=_("官方日历已导入，临时期限“%(kind)s”重新计算为 %(due)s")
            % {
                "kind": DEADLINE_LABELS.get(d.kind, d.kind),
                "due": timezone.localtime(d.due_at).strftime("%Y-%m-%d %H:%M"),
            },
            data={"deadline_id": d.pk, "due_at": d.due_at.isoformat()},
        )
    return changed


DEADLINE_LABELS = {
    "objection_intake": gettext_lazy("受理期限"),
    "objection_platform_check": gettext_lazy("平台核查期限"),
    "objection_verification": gettext_lazy("信源单位核查期限"),
    "objection_supplement": gettext_lazy("补正期限"),
}


# --- access -------------------------------------------------------------------------------------


def user_can_work(user: User, task: CaseTask) -> bool:
    if not user.is_authenticated or not user.is_staff_member:
        return False
    if not task.queue:
        return False  # background steps (e.g. waiting for supplements) are nobody's queue task
    if user.is_supervisor:
        return True
    return task.queue in user.queues()


def _lock_task(task_id: int, user: User) -> CaseTask:
    try:
        process_id = CaseTask.objects.values_list("process_id", flat=True).get(pk=task_id)
    except (CaseTask.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("任务不存在。"))
    # process row first (the flow lock), then the task row
    CaseProcess.objects.select_for_update().filter(pk=process_id).exists()
    task = (
        CaseTask.objects.select_for_update(of=("self",))
        .select_related("owner", "completed_by")
        .get(pk=task_id)
    )
    if not user_can_work(user, task):
        raise NotFound(_("任务不存在，或不在您的队列中。"))
    return task


def _ensure_open(task: CaseTask) -> None:
    if task.status in OPEN_TASK_STATUSES:
        return
    if task.status == "DONE" and task.completed_by_id:
        raise Conflict(
            _("该任务已由 %(who)s 于 %(when)s 办理完毕，无需重复办理。")
            % {
                "who": task.completed_by.username,  # type: ignore[union-attr]
                "when": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M")
                if task.finished
                else "",
            },
            code="task_done",
        )
    raise Conflict(
        _("该任务已结束（案件已撤回或已进入下一环节），请刷新队列。"), code="task_closed"
    )


def _set_owner(task: CaseTask, user: User | None, *, by: User, event_reason: str) -> None:
    task.owner = user
    task.status = "ASSIGNED" if user else "NEW"
    task.assigned = timezone.now() if user else None
    task.save(update_fields=["owner", "status", "assigned"])
    if task.deadline_id:
        deadline_set_assignee(deadline=task.deadline, user=user)  # type: ignore[arg-type]
    audit_append(
        case_kind=task.case_kind,
        case_id=task.case_id,  # type: ignore[arg-type]
        event="assignment",
        actor=by,
        reason=event_reason,
        task=f"{task.step}#{task.pk}",
        data={"owner": user.username if user else None},
    )


def task_claim(*, task_id: int, user: User) -> CaseTask:
    with transaction.atomic():
        task = _lock_task(task_id, user)
        _ensure_open(task)
        if task.owner_id == user.pk:
            return task
        if task.owner_id:
            raise Conflict(
                _("该任务已由 %(who)s 认领。") % {"who": task.owner.username},  # type: ignore[union-attr]
                code="task_held",
            )
        _set_owner(task, user, by=user, event_reason=_("认领任务"))
        return task


def task_release(*, task_id: int, user: User) -> CaseTask:
    with transaction.atomic():
        task = _lock_task(task_id, user)
        _ensure_open(task)
        if task.owner_id is None:
            return task
        if task.owner_id != user.pk and not user.is_supervisor:
            raise Conflict(
                _("该任务由 %(who)s 持有，只有本人或主管可以释放。") % {"who": task.owner.username},  # type: ignore[union-attr]
                code="task_held",
            )
        _set_owner(task, None, by=user, event_reason=_("释放任务，退回队列"))
        return task


def task_assign(*, task_ids: Sequence[int], assignee: User | None, by: User) -> list[CaseTask]:
    """Supervisor: assign or reassign one or many tasks (all or nothing)."""
    if not by.is_supervisor:
        raise Forbidden(_("只有主管可以分派任务。"))
    done: list[CaseTask] = []
    with transaction.atomic():
        for task_id in task_ids:
            task = _lock_task(task_id, by)
            _ensure_open(task)
            if assignee is not None and not (
                assignee.is_active and task.queue in assignee.queues()
            ):
                raise ServiceError(
                    _("%(who)s 不属于任务 %(task)s 所在的队列，不能分派给他/她。")
                    % {"who": assignee.username, "task": task.case_reference or task.pk},
                    code="wrong_assignee",
                )
            reason = (
                _("主管分派给 %(who)s") % {"who": assignee.username}
                if assignee
                else _("主管收回任务，退回队列")
            )
            _set_owner(task, assignee, by=by, event_reason=reason)
            done.append(task)
    return done


# --- completion ---------------------------------------------------------------------------------

Handler = Callable[..., Any]


def _objection(task: CaseTask) -> Objection:
    return Objection.objects.get(pk=int(task.case_id or 0))


def _need(value: str | None, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ServiceError(message, code="invalid", errors=[{"field": field, "message": message}])
    return value.strip()  # type: ignore[union-attr]


def _intake_accept(task: CaseTask, user: User, d: dict[str, Any]) -> None:
    objection_services.objection_accept(
        objection=_objection(task), by=user, reason=d.get("reason", ""), task=_ref(task)
    )


def _intake_refuse(task: CaseTask, user: User, d: dict[str, Any]) -> None:
    objection_services.objection_refuse(
        objection=_objection(task),
        by=user,
        reason=_need(d.get("reason"), "reason", _("不予受理须写明理由。")),
        task=_ref(task),
    )


def _intake_supplement(task: CaseTask, user: User, d: dict[str, Any]) -> None:
    objection_services.objection_request_supplement(
        objection=_objection(task),
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明需要补正的内容。")),
        task=_ref(task),
    )


def _platform_forward(task: CaseTask, user: User, d: dict[str, Any]) -> None:
    objection_services.objection_forward(
        objection=_objection(task), by=user, reason=d.get("reason", ""), task=_ref(task)
    )


def _resolve(task: CaseTask, user: User, d: dict[str, Any]) -> None:
    objection_services.objection_resolve(
        objection=_objection(task),
        by=user,
        outcome=_need(d.get("outcome"), "outcome", _("请选择处理结果。")),
        reason=d.get("reason", ""),
        content=d.get("content"),
        task=_ref(task),
    )


def _ref(task: CaseTask) -> str:
    return f"{task.step}#{task.pk}"


STEP_DECISIONS: dict[str, dict[str, Handler]] = {
    "objection_intake": {
        "accept": _intake_accept,
        "not_accept": _intake_refuse,
        "request_supplement": _intake_supplement,
    },
    "objection_platform_check": {"forward": _platform_forward, "resolve": _resolve},
    "objection_verification": {"resolve": _resolve},
}


def task_complete(*, task_id: int, user: User, decision: str, data: dict[str, Any]) -> CaseTask:
    """Take the decision of a task: claim it if nobody holds it, call the step's domain service,
    then move the flow on. 409 when someone else holds or completed it or the case moved on."""
    with transaction.atomic():
        task = _lock_task(task_id, user)
        _ensure_open(task)
        if task.owner_id and task.owner_id != user.pk:
            raise Conflict(
                _("该任务已由 %(who)s 认领，您不能办理；如需接手请联系主管重新分派。")
                % {"who": task.owner.username},  # type: ignore[union-attr]
                code="task_held",
            )
        handlers = STEP_DECISIONS.get(task.step, {})
        handler = handlers.get(decision)
        if handler is None:
            raise ServiceError(
                _("此环节的办理决定只能是：%(choices)s。") % {"choices": ", ".join(handlers)},
                code="invalid_decision",
                errors=[{"field": "decision", "message": _("请选择办理决定。")}],
            )
        if task.owner_id is None:
            _set_owner(task, user, by=user, event_reason=_("认领任务"))
        activation = task.flow_task.activation_class(task)
        activation.start(None)
        handler(task, user, data)
        task.completed_by = user
        activation.execute()
        return task


# --- application services for the applicant's side ---------------------------------------------


def _flow(kind: str) -> Any:
    from .flows import FLOWS

    return FLOWS[kind]


def objection_file(**kwargs: Any) -> Objection:
    """File an objection (domain service) and start its flow, in one transaction."""
    with transaction.atomic():
        objection = objection_services.objection_submit(**kwargs)
        _flow("objection").start.run(case_id=objection.pk)
        return objection


def _lock_process(kind: str, case_id: int) -> CaseProcess | None:
    return CaseProcess.objects.select_for_update().filter(case_kind=kind, case_id=case_id).first()


def _open_handle(process: CaseProcess, node: Any) -> CaseTask | None:
    return process.task_set.filter(flow_task=node, status="NEW").order_by("-id").first()


def objection_supplement_given(
    *, objection: Objection, by: User, text: str, files: Sequence[Any] = ()
) -> Objection:
    with transaction.atomic():
        process = _lock_process("objection", objection.pk)
        objection = objection_services.objection_supplement(
            objection=objection, by=by, text=text, files=files
        )
        flow_class = _flow("objection")
        task = _open_handle(process, flow_class.await_supplement) if process else None
        if task is not None:
            flow_class.await_supplement.run(task)
        return objection


def objection_withdrawn(*, objection: Objection, by: User, reason: str = "") -> Objection:
    with transaction.atomic():
        process = _lock_process("objection", objection.pk)
        objection = objection_services.objection_withdraw(objection=objection, by=by, reason=reason)
        if process is not None and process.status not in ("DONE", "CANCELED"):
            _flow("objection").instance.cancel(process)
        return objection


def objections_lapse_overdue(now: datetime.datetime | None = None) -> int:
    """Sweep: supplement periods that passed → not accepted, and the flow ends."""
    from objections.selectors import objections_to_lapse

    count = 0
    flow_class = _flow("objection")
    for objection_id in objections_to_lapse(now):
        with transaction.atomic():
            process = _lock_process("objection", objection_id)
            objection = Objection.objects.get(pk=objection_id)
            if objection.status != "needs_supplement":
                continue
            objection_services.objection_lapse(objection=objection, at=now)
            task = _open_handle(process, flow_class.await_supplement) if process else None
            if task is not None:
                flow_class.await_supplement.run(task)
            count += 1
    return count
