"""The credit repair workflow's registration (SPEC §6)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.selectors import commitment_as_dict, commitment_for_repair
from commitments.services import commitment_create_for_repair
from repair import services as svc
from repair.models import OPEN_STATUSES, Repair, Status
from repair.selectors import repair_as_dict, repairs_to_lapse, repairs_visible_to
from workflow_app.api import ServiceError

from ..registry import CaseKind, Decision, Step, register


def _need(value: str | None, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ServiceError(message, code="invalid", errors=[{"field": field, "message": message}])
    return (value or "").strip()


def route(case: Repair, user: Any, d: dict[str, Any], task: str) -> str:
    svc.repair_route(repair=case, by=user, reason=d.get("reason", ""), task=task)
    return "decision"


def reject(case: Repair, user: Any, d: dict[str, Any], task: str) -> str:
    svc.repair_reject(
        repair=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("不予修复须写明理由。")),
        task=task,
    )
    return ""


def request_supplement(case: Repair, user: Any, d: dict[str, Any], task: str) -> str:
    svc.repair_request_supplement(
        repair=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明需要补正的内容。")),
        task=task,
    )
    return "supplement"


def approve(case: Repair, user: Any, d: dict[str, Any], task: str) -> str:
    """Approval and the repair commitment it activates, in the task's one transaction (repair
    never imports commitments; this registration joins them)."""
    from ..services import case_start

    repair = svc.repair_approve(repair=case, by=user, reason=d.get("reason", ""), task=task)
    commitment = commitment_create_for_repair(repair=repair, by=user)
    case_start("commitment", commitment)  # waits for random checks and breach reports
    return ""


def as_dict(case: Repair, *, viewer: Any = None) -> dict[str, Any]:
    data = repair_as_dict(case, viewer=viewer)
    commitment = commitment_for_repair(case.pk)
    data["commitment"] = (
        {"id": commitment.pk, "reference": commitment.reference, "status": commitment.status}
        if commitment
        else None
    )
    return data


_supplement = Decision(
    "request_supplement", gettext_lazy("要求补正"), request_supplement, ("reason",), True
)
_reject = Decision("reject", gettext_lazy("不予修复"), reject, ("reason",), True)

REPAIR = register(
    CaseKind(
        code="repair",
        related=svc.RELATED,
        open_statuses=tuple(str(s) for s in OPEN_STATUSES),
        label=gettext_lazy("信用修复"),
        model=Repair,
        url_prefix="repairs",
        flow_path="processes.flows.RepairFlow",
        visible_to=repairs_visible_to,
        as_dict=as_dict,
        steps={
            "repair_intake": Step(
                "repair_intake",
                gettext_lazy("修复受理"),
                {
                    "route": Decision("route", gettext_lazy("转认定单位决定"), route, ("reason",)),
                    "reject": _reject,
                    "request_supplement": _supplement,
                },
                supervisors_act=True,
            ),
            "repair_decision": Step(
                "repair_decision",
                gettext_lazy("修复决定"),
                {
                    "approve": Decision("approve", gettext_lazy("准予修复"), approve, ("reason",)),
                    "reject": _reject,
                    "request_supplement": _supplement,
                },
            ),
        },
        deadline_labels={
            "repair_intake": gettext_lazy("修复受理期限"),
            "repair_decision": gettext_lazy("修复决定期限"),
            "repair_total": gettext_lazy("修复办结总期限"),
            "repair_supplement": gettext_lazy("补正期限"),
        },
        status_labels=lambda: dict(Status.choices),
        detail_template="repair/_case.html",
        submit=svc.repair_submit,
        supplement=lambda *, case, by, text, files=(): svc.repair_supplement(
            repair=case, by=by, text=text, files=files
        ),
        withdraw=lambda *, case, by, reason="": svc.repair_withdraw(
            repair=case, by=by, reason=reason
        ),
        lapse=lambda *, case, at: svc.repair_lapse(repair=case, at=at),
        add_evidence=lambda *, case, by, files: svc.repair_add_evidence(
            repair=case, by=by, files=files
        ),
        to_lapse=repairs_to_lapse,
        is_open=lambda case: case.is_open,
        needs_supplement=lambda case: case.status == Status.NEEDS_SUPPLEMENT,
        extra={"commitment_as_dict": commitment_as_dict},
    )
)
