"""Queue services: claim, release, assign, complete; and the application services that move a flow
after a domain service (filing, supplement, withdrawal, lapse), for every registered case kind.

Lock order everywhere: process row → task row → domain row. Two caseworkers completing one task
serialise on the task row; the second sees the task done and gets a 409.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow_app.accounts.models import User
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.audit.services import audit_append
from workflow_app.cases.transitions import case_created_here, cases_locked_here
from workflow_app.compiled import CompiledQuery
from workflow_app.workdays.deadlines import deadline_set_assignee, deadlines_opened_here

from .models import OPEN_TASK_STATUSES, CaseProcess, CaseTask
from .registry import CaseKind, kind, kinds, step_label, step_of

# --- access -------------------------------------------------------------------------------------


def user_may_act(user: User, task: CaseTask) -> bool:
    """Who takes a task's decision, settled once: members of the task's group; supervisors also
    on steps their registration opens to them (centre steps). Claim, release, assign and
    complete all ask this, and the domain permissions agree with it."""
    if not user.is_authenticated or not user.is_staff_member:
        return False
    if not task.queue:
        return False  # background steps (e.g. waiting for supplements) are nobody's queue task
    if task.queue in user.queues():
        return True
    step = step_of(task.case_kind, task.step)
    return user.role == "supervisor" and step is not None and step.supervisors_act


def user_may_view(user: User, task: CaseTask) -> bool:
    """Supervisors and administrators see every queue task (to assign and follow escalations)."""
    if user_may_act(user, task):
        return True
    return bool(task.queue) and user.is_authenticated and user.is_supervisor


# every task action's first read, compiled once (workflow_app/compiled.py): the task with its
# process, both locked — the process row first (the flow lock every path takes first), then the
# task row: PostgreSQL locks a row's tables in the order of FOR UPDATE OF, which is the order of
# ``of`` (tests/processes/test_concurrency.py holds it to that)
_TASK_AND_PROCESS_LOCKED = CompiledQuery(
    lambda task_id: (
        CaseTask.objects.select_for_update(of=("process", "self"))
        # the holder and department the answer shows, the deadline an unclaimed completion writes
        # its new holder to (completed_by: read on the 409 path only)
        .select_related("process", "owner", "department", "deadline")
        .filter(pk=task_id)[:2]
    ),
    int,
)


def _lock_task(task_id: int, user: User, *, for_assignment: bool = False) -> CaseTask:
    # process row first (the flow lock), then the task row, in one statement; the task keeps
    # the locked process, which viewflow's activation then uses
    try:
        task = _TASK_AND_PROCESS_LOCKED.one(task_id)
    except (CaseTask.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("任务不存在。"))
    if not user_may_view(user, task):
        raise NotFound(_("任务不存在，或不在您的队列中。"))
    if not for_assignment and not user_may_act(user, task):
        raise Forbidden(
            _(
                "“%(step)s”由 %(queue)s 办理；您可以查看，但不能认领或办理，如需调整请分派给该组人员。"
            )
            % {"step": step_label(task.step), "queue": queue_label(task.queue)}
        )
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


def queue_label(queue: str) -> str:
    if queue == "centre":
        return str(_("信用中心"))
    if queue == "supervisors":
        return str(_("主管"))
    if queue.startswith("dept:"):
        from workflow_app.registry.models import Department

        dept = Department.objects.filter(code=queue[5:]).only("name").first()
        return dept.name if dept else queue[5:]
    return queue


def _set_owner(
    task: CaseTask,
    user: User | None,
    *,
    by: User,
    msg: str,
    params: dict[str, Any] | None = None,
    completing: bool = False,
) -> None:
    """Give the task to ``user`` (or back to its group). ``completing``: the holder is taking the
    decision in this same transaction — the task row is saved with the decision and the
    decision's audit entry names who acted, so no separate save or assignment entry is written."""
    task.owner = user
    task.status = "ASSIGNED" if user else "NEW"
    task.assigned = timezone.now() if user else None
    if task.deadline_id:
        deadline_set_assignee(
            deadline_id=task.deadline_id,
            user=user,
            # the step's handler closes the task's open deadline next (its kind is the step)
            closing=(task.case_kind, int(task.case_id or 0), task.step)
            if completing and task.deadline is not None and task.deadline.status == "open"
            else None,
        )
    if completing:
        return
    task.save(update_fields=["owner", "status", "assigned"])
    audit_append(
        case_kind=task.case_kind,
        case_id=task.case_id,  # type: ignore[arg-type]
        event="assignment",
        actor=by,
        task=_ref(task),
        data={"msg": msg, "params": params or {}, "owner": user.username if user else None},
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
        _set_owner(task, user, by=user, msg="task.claimed")
        return task


def task_release(*, task_id: int, user: User) -> CaseTask:
    with transaction.atomic():
        task = _lock_task(task_id, user, for_assignment=user.is_supervisor)
        _ensure_open(task)
        if task.owner_id is None:
            return task
        if task.owner_id != user.pk and not user.is_supervisor:
            raise Conflict(
                _("该任务由 %(who)s 持有，只有本人或主管可以释放。") % {"who": task.owner.username},  # type: ignore[union-attr]
                code="task_held",
            )
        _set_owner(task, None, by=user, msg="task.released")
        return task


def task_assign(*, task_ids: Sequence[int], assignee: User | None, by: User) -> list[CaseTask]:
    """Supervisor: assign or reassign one or many tasks (all or nothing)."""
    if not by.is_supervisor:
        raise Forbidden(_("只有主管可以分派任务。"))
    done: list[CaseTask] = []
    with transaction.atomic():
        for task_id in task_ids:
            task = _lock_task(task_id, by, for_assignment=True)
            _ensure_open(task)
            if assignee is not None and not user_may_act(assignee, task):
                raise ServiceError(
                    _("%(who)s 不属于任务 %(task)s 所在的队列，不能分派给他/她。")
                    % {"who": assignee.username, "task": task.case_reference or task.pk},
                    code="wrong_assignee",
                )
            if assignee:
                _set_owner(
                    task, assignee, by=by, msg="task.assigned", params={"who": assignee.username}
                )
            else:
                _set_owner(task, None, by=by, msg="task.recalled")
            done.append(task)
    return done


# --- completion ---------------------------------------------------------------------------------


def _ref(task: CaseTask) -> str:
    return f"{task.step}#{task.pk}"


def task_complete(*, task_id: int, user: User, decision: str, data: dict[str, Any]) -> CaseTask:
    """Take the decision of a task: claim it if nobody holds it, call the step's handler (one
    domain service), then move the flow on the route the handler returned. 409 when someone
    else holds or completed it or the case moved on."""
    with transaction.atomic(), deadlines_opened_here(), cases_locked_here():
        task = _lock_task(task_id, user)
        _ensure_open(task)
        if task.owner_id and task.owner_id != user.pk:
            raise Conflict(
                _("该任务已由 %(who)s 认领，您不能办理；如需接手请联系主管重新分派。")
                % {"who": task.owner.username},  # type: ignore[union-attr]
                code="task_held",
            )
        step = step_of(task.case_kind, task.step)
        choice = step.decisions.get(decision) if step else None
        if step is None or choice is None:
            choices = ", ".join(step.decisions) if step else ""
            raise ServiceError(
                _("此环节的办理决定只能是：%(choices)s。") % {"choices": choices},
                code="invalid_decision",
                errors=[{"field": "decision", "message": _("请选择办理决定。")}],
            )
        if choice.reason_required and not (data.get("reason") or "").strip():
            message = _("“%(decision)s”须写明理由。") % {"decision": choice.label}
            raise ServiceError(
                message, code="reason_required", errors=[{"field": "reason", "message": message}]
            )
        if task.owner_id is None:
            _set_owner(task, user, by=user, msg="task.claimed", completing=True)
        case_kind = kind(task.case_kind)
        case = case_kind.lock(task.case_id)
        activation = task.flow_task.activation_class(task)
        activation.start(None)
        route = choice.handler(case, user, data, _ref(task))
        activation.process.data["route"] = route or ""
        task.completed_by = user
        task.case_status = case.status  # the row (and the answer) show where the decision left it
        activation.execute()
        return task


# --- application services for the applicant's side (every kind) --------------------------------


def case_file(case_kind: str, **kwargs: Any) -> Any:
    """File a case (the kind's domain service) and start its flow, in one transaction."""
    k = kind(case_kind)
    with transaction.atomic(), deadlines_opened_here(), cases_locked_here():
        case = k.submit(**kwargs)
        case_created_here(case)
        k.flow.start.run(case_id=case.pk, route=k.initial_route(case))
        return case


def case_start(case_kind: str, case: Any, route: str = "") -> None:
    """Start the flow of a case created by another case's service (a repair commitment)."""
    kind(case_kind).flow.start.run(case_id=case.pk, route=route)


def _lock_process(case_kind: str, case_id: int) -> CaseProcess | None:
    return (
        CaseProcess.objects.select_for_update().filter(case_kind=case_kind, case_id=case_id).first()
    )


def _resume(process: CaseProcess | None, route: str) -> None:
    """Complete the flow's open background step (waiting for supplements) on ``route``."""
    if process is None:
        return
    task = (
        process.task_set.filter(status="NEW", queue="", flow_task_type="FUNCTION")
        .order_by("-id")
        .first()
    )
    if task is not None:
        task.flow_task.run(task, route=route)


def _require_owner(case: Any, by: User) -> None:
    """Withdrawing and supplementing are the applicant's own acts: staff who may see the case
    are told so (403), before any check of the case's state."""
    if not (by.is_authenticated and by.is_applicant and by.subject_id == case.subject_id):
        raise Forbidden(_("只有申请人本人可以撤回申请或提交补正；工作人员请在任务页面办理。"))


def case_supplement_given(
    case_kind: str, *, case: Any, by: User, text: str, files: Sequence[Any] = ()
) -> Any:
    k = kind(case_kind)
    _require_owner(case, by)
    if k.supplement is None:
        raise ServiceError(_("此类案件不接受补正。"), code="not_supported")
    with transaction.atomic(), deadlines_opened_here(), cases_locked_here():
        process = _lock_process(case_kind, case.pk)
        case = k.supplement(case=case, by=by, text=text, files=files)
        _resume(process, "resume")
        return case


def case_withdrawn(case_kind: str, *, case: Any, by: User, reason: str = "") -> Any:
    k = kind(case_kind)
    _require_owner(case, by)
    if k.withdraw is None:
        raise ServiceError(_("此类案件不能撤回。"), code="not_supported")
    with transaction.atomic():
        process = _lock_process(case_kind, case.pk)
        case = k.withdraw(case=case, by=by, reason=reason)
        if process is not None and process.status not in ("DONE", "CANCELED"):
            k.flow.instance.cancel(process)
        return case


def _lapse_kind(k: CaseKind, now: datetime.datetime) -> int:
    count = 0
    for case_id in k.to_lapse(now) if k.to_lapse else []:
        with transaction.atomic(), deadlines_opened_here(), cases_locked_here():
            process = _lock_process(k.code, case_id)
            case = k.model._default_manager.select_for_update().get(pk=case_id)
            if not k.needs_supplement(case):
                continue  # supplied meanwhile, or withdrawn
            k.lapse(case=case, at=now)  # type: ignore[misc]
            _resume(process, "lapse")
            count += 1
    return count


def cases_lapse_overdue(now: datetime.datetime | None = None) -> dict[str, int]:
    """Sweep: supplement periods that passed → the kind's lapse (not accepted / rejected), and
    the flow ends."""
    now = now or timezone.now()
    return {k.code: _lapse_kind(k, now) for k in kinds() if k.lapse is not None}


# --- commitments: random checks and due dates (flows moved by the system) -------------------------


def _move_waiting_or_open(process: CaseProcess | None, route: str) -> None:
    """Move a commitment's flow on ``route``: from its waiting step, or — when a verification
    task is open (the system acts on it, e.g. a due date passed) — by completing that task."""
    if process is None:
        return
    task = (
        process.task_set.filter(status__in=OPEN_TASK_STATUSES)
        .exclude(queue="")
        .order_by("-id")
        .first()
    )
    if task is None:
        _resume(process, route)
        return
    task.status = "ASSIGNED"  # the system takes the open task (nobody's claim is overridden)
    activation = task.flow_task.activation_class(task)
    activation.start(None)
    activation.process.data["route"] = route
    activation.execute()


def random_check_start(*, by: User | None, department: Any = None, seed: int | None = None) -> Any:
    """Draw (stored, reproducible), then open a verification task for each drawn commitment and
    assign it to the caseworker drawn for it."""
    from commitments.models import Commitment
    from commitments.services import commitment_open_verification, random_check_draw

    with transaction.atomic():
        check = random_check_draw(by=by, department=department, seed=seed)
        users = {
            u.username: u for u in User.objects.filter(username__in=set(check.assignees.values()))
        }
        for cid in check.drawn:
            process = _lock_process("commitment", cid)
            commitment = Commitment.objects.get(pk=cid)
            commitment_open_verification(commitment=commitment, by=by, check_id=check.pk)
            if process is None:  # commitments signed before flows were started for them
                case_start("commitment", commitment, route="verify")
            else:
                _resume(process, "verify")
            assignee = users.get(check.assignees.get(str(cid), ""))
            task = (
                CaseTask.objects.filter(
                    case_kind="commitment",
                    case_id=cid,
                    step="commitment_verification",
                    status__in=OPEN_TASK_STATUSES,
                )
                .order_by("-id")
                .first()
            )
            if task is not None and assignee is not None:
                _set_owner(
                    task,
                    assignee,
                    by=by or assignee,
                    msg="task.assigned",
                    params={"who": assignee.username},
                )
        return check


def commitments_sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Deficiency commitments past their due date lapse (the matter is terminated); any other
    commitment whose due date passed unfulfilled becomes a suspected breach with a review task."""
    from commitments.models import Commitment, Status
    from commitments.selectors import commitments_past_due
    from commitments.services import commitment_due_date_passed, commitment_lapse

    now = now or timezone.now()
    lapse_ids, breach_ids = commitments_past_due(now)
    lapsed = breached = 0
    for cid in lapse_ids:
        with transaction.atomic():
            process = _lock_process("commitment", cid)
            c = Commitment.objects.select_for_update().get(pk=cid)
            if c.status != Status.ACTIVE:
                continue
            commitment_lapse(commitment=c, at=now)
            if process is not None and process.status not in ("DONE", "CANCELED"):
                kind("commitment").flow.instance.cancel(process)
            lapsed += 1
    for cid in breach_ids:
        with transaction.atomic():
            process = _lock_process("commitment", cid)
            c = Commitment.objects.select_for_update().get(pk=cid)
            if c.status != Status.ACTIVE:
                continue
            commitment_due_date_passed(commitment=c, at=now)
            if process is None:
                case_start("commitment", c, route="review")
            else:
                _move_waiting_or_open(process, "review")
            breached += 1
    return {"commitment_lapses": lapsed, "commitment_breaches": breached}
