"""viewflow flows: they put each human step in the right group's queue and only wire.

Each View node is a queue task whose decision is taken by ``processes.services.task_complete``,
which calls exactly one decision handler of the case kind's registration and then executes the
activation. Background steps are ``Handle`` nodes completed by the application services
(supplement given, lapse) — viewflow's Celery nodes are not open source.

Switches never re-read the case: the handler that just ran returns the route the flow takes,
which is stored on the in-memory process (``process.data["route"]``) that viewflow hands to the
next node.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock

from .models import CaseProcess, CaseTask
from .nodes import CaseHandle, CaseStart, Finish, QueueView, Route
from .tasksetup import task_attach_deadline


def task_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """viewflow requires a view per human node; ours are served by processes.views."""
    return redirect("task-detail", task_id=kwargs.get("task_pk"))


def route(name: str) -> Any:
    """Switch condition: the last handler chose ``name``."""
    return lambda activation: activation.process.data.get("route") == name


class CaseFlow(flow.Flow):
    """What every case kind's flow shares: our process and task tables, the row lock, starting
    on a case id, and the task setup (queue columns from the step's open deadline)."""

    process_class = CaseProcess
    task_class = CaseTask
    lock_impl = SelectForUpdateLock(nowait=False, attempts=1)
    case_kind = ""
    steps: dict[str, str] = {}  # View node name → step code

    def start_process(self, activation: Any, case_id: int, route: str = "") -> Any:
        activation.process.case_kind = self.case_kind
        activation.process.case_id = case_id
        activation.process.data["route"] = route
        return activation.process

    def resume(self, activation: Any, route: str = "resume", **kwargs: Any) -> None:
        """Handle nodes: the applicant supplied (``resume``) or the period lapsed (``lapse``)."""
        activation.process.data["route"] = route

    def prepare_task(self, activation: Any) -> None:
        """Called by :class:`~processes.nodes.QueueView` before the task's first save."""
        task_attach_deadline(activation.task, step=self.steps[activation.flow_task.name])


class ObjectionFlow(CaseFlow):
    """SPEC §5: intake → (supplement loop) → platform check → department verification."""

    process_title = "异议处理"
    case_kind = "objection"
    steps = {
        "intake": "objection_intake",
        "platform_check": "objection_platform_check",
        "verification": "objection_verification",
    }

    start = CaseStart(this.start_process).Next(this.intake)

    intake = QueueView(task_page).Next(this.after_intake)
    after_intake = (
        Route()
        .Case(this.await_supplement, route("supplement"))
        .Case(this.platform_check, route("platform_check"))
        .Default(this.end)
    )
    await_supplement = CaseHandle(this.resume).Next(this.after_supplement)
    after_supplement = Route().Case(this.intake, route("resume")).Default(this.end)

    platform_check = QueueView(task_page).Next(this.after_platform_check)
    after_platform_check = Route().Case(this.verification, route("verification")).Default(this.end)
    verification = QueueView(task_page).Next(this.end)

    end = Finish()


class RepairFlow(CaseFlow):
    """SPEC §6: centre intake (supplement loop) → decision by the record's department (谁认定谁
    修复, with its own supplement loop that returns to the decision)."""

    process_title = "信用修复"
    case_kind = "repair"
    steps = {"intake": "repair_intake", "decision": "repair_decision"}

    start = CaseStart(this.start_process).Next(this.intake)

    intake = QueueView(task_page).Next(this.after_intake)
    after_intake = (
        Route()
        .Case(this.await_intake_supplement, route("supplement"))
        .Case(this.decision, route("decision"))
        .Default(this.end)
    )
    await_intake_supplement = CaseHandle(this.resume).Next(this.after_intake_supplement)
    after_intake_supplement = Route().Case(this.intake, route("resume")).Default(this.end)

    decision = QueueView(task_page).Next(this.after_decision)
    after_decision = (
        Route().Case(this.await_decision_supplement, route("supplement")).Default(this.end)
    )
    await_decision_supplement = CaseHandle(this.resume).Next(this.after_decision_supplement)
    after_decision_supplement = Route().Case(this.decision, route("resume")).Default(this.end)

    end = Finish()


class CommitmentFlow(CaseFlow):
    """SPEC §7: a commitment waits (``idle``) until something needs a person — verification at
    signing (notification, deficiency) or when a random check draws it, a breach review when the
    department suspects a breach or the due date passes — and returns to waiting when a breach
    is dismissed. One process per commitment for its whole life."""

    process_title = "信用承诺"
    case_kind = "commitment"
    steps = {"verification": "commitment_verification", "review": "breach_review"}

    start = CaseStart(this.start_process).Next(this.dispatch)
    dispatch = (
        Route()
        .Case(this.verification, route("verify"))
        .Case(this.review, route("review"))
        .Default(this.idle)
    )
    idle = CaseHandle(this.resume).Next(this.after_idle)
    after_idle = (
        Route()
        .Case(this.verification, route("verify"))
        .Case(this.review, route("review"))
        .Default(this.end)
    )
    verification = QueueView(task_page).Next(this.after_verification)
    after_verification = (
        Route().Case(this.review, route("review")).Case(this.idle, route("idle")).Default(this.end)
    )
    review = QueueView(task_page).Next(this.after_review)
    after_review = Route().Case(this.idle, route("idle")).Default(this.end)

    end = Finish()
