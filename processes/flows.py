"""viewflow flows: they put each human step in the right group's queue and only wire.

Each View node is a queue task whose decision is taken by ``processes.services.task_complete``,
which calls exactly one domain service and then executes the activation. Background steps are
``Handle`` nodes completed by services or sweeps (viewflow's Celery nodes are not open source).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock

from objections.models import Status as ObjectionStatus
from objections.selectors import objection_status

from .models import CaseProcess, CaseTask
from .services import task_attach_deadline


def task_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """viewflow requires a view per human node; ours are served by processes.views."""
    return redirect("task-detail", task_id=kwargs.get("task_pk"))


class ObjectionFlow(flow.Flow):
    """SPEC §5: intake → (supplement loop) → platform check → department verification."""

    process_class = CaseProcess
    task_class = CaseTask
    lock_impl = SelectForUpdateLock(nowait=False, attempts=1)
    process_title = "异议处理"

    start = flow.StartHandle(this.start_process).Next(this.intake)

    intake = flow.View(task_page).onCreate(this.setup_task).Next(this.after_intake)
    after_intake = (
        flow.Switch()
        .Case(this.await_supplement, this.needs_supplement)
        .Case(this.platform_check, this.accepted)
        .Default(this.end)
    )

    await_supplement = flow.Handle(this.noop).Next(this.after_supplement)
    after_supplement = flow.Switch().Case(this.intake, this.submitted).Default(this.end)

    platform_check = flow.View(task_page).onCreate(this.setup_task).Next(this.after_platform_check)
    after_platform_check = flow.Switch().Case(this.verification, this.forwarded).Default(this.end)

    verification = flow.View(task_page).onCreate(this.setup_task).Next(this.end)

    end = flow.End()

    # --- wiring -------------------------------------------------------------------------------

    def start_process(self, activation: Any, case_id: int) -> Any:
        activation.process.case_kind = "objection"
        activation.process.case_id = case_id
        return activation.process

    def noop(self, activation: Any, **kwargs: Any) -> None:
        return None

    def setup_task(self, activation: Any) -> None:
        task_attach_deadline(activation.task, step=STEP_OF_NODE[activation.flow_task.name])

    def needs_supplement(self, activation: Any) -> bool:
        return objection_status(activation.process.case_id) == ObjectionStatus.NEEDS_SUPPLEMENT

    def accepted(self, activation: Any) -> bool:
        return objection_status(activation.process.case_id) == ObjectionStatus.ACCEPTED

    def submitted(self, activation: Any) -> bool:
        return objection_status(activation.process.case_id) == ObjectionStatus.SUBMITTED

    def forwarded(self, activation: Any) -> bool:
        return objection_status(activation.process.case_id) == ObjectionStatus.FORWARDED


STEP_OF_NODE = {
    "intake": "objection_intake",
    "platform_check": "objection_platform_check",
    "verification": "objection_verification",
}

FLOWS = {"objection": ObjectionFlow}
