"""The objection workflow's registration (SPEC §5)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from objections import services as svc
from objections.models import OPEN_STATUSES, Objection, Outcome, Status
from objections.selectors import objection_as_dict, objections_to_lapse, objections_visible_to
from workflow_app.api import ServiceError

from ..registry import CaseKind, Decision, Step, register


def _need(value: str | None, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ServiceError(message, code="invalid", errors=[{"field": field, "message": message}])
    return (value or "").strip()


def accept(case: Objection, user: Any, d: dict[str, Any], task: str) -> str:
    svc.objection_accept(objection=case, by=user, reason=d.get("reason", ""), task=task)
    return "platform_check"


def not_accept(case: Objection, user: Any, d: dict[str, Any], task: str) -> str:
    svc.objection_refuse(
        objection=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("不予受理须写明理由。")),
        task=task,
    )
    return ""


def request_supplement(case: Objection, user: Any, d: dict[str, Any], task: str) -> str:
    svc.objection_request_supplement(
        objection=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明需要补正的内容。")),
        task=task,
    )
    return "supplement"


def forward(case: Objection, user: Any, d: dict[str, Any], task: str) -> str:
    svc.objection_forward(objection=case, by=user, reason=d.get("reason", ""), task=task)
    return "verification"


def resolve(case: Objection, user: Any, d: dict[str, Any], task: str) -> str:
    svc.objection_resolve(
        objection=case,
        by=user,
        outcome=_need(d.get("outcome"), "outcome", _("请选择处理结果。")),
        reason=d.get("reason", ""),
        content=d.get("content"),
        task=task,
    )
    return ""


OBJECTION = register(
    CaseKind(
        code="objection",
        related=svc.RELATED,
        open_statuses=tuple(str(s) for s in OPEN_STATUSES),
        label=gettext_lazy("异议"),
        model=Objection,
        url_prefix="objections",
        flow_path="processes.flows.ObjectionFlow",
        visible_to=objections_visible_to,
        as_dict=objection_as_dict,
        steps={
            "objection_intake": Step(
                "objection_intake",
                gettext_lazy("异议受理"),
                {
                    "accept": Decision("accept", gettext_lazy("受理"), accept, ("reason",)),
                    "not_accept": Decision(
                        "not_accept", gettext_lazy("不予受理"), not_accept, ("reason",), True
                    ),
                    "request_supplement": Decision(
                        "request_supplement",
                        gettext_lazy("要求补正"),
                        request_supplement,
                        ("reason",),
                        True,
                    ),
                },
                supervisors_act=True,
            ),
            "objection_platform_check": Step(
                "objection_platform_check",
                gettext_lazy("平台核查"),
                {
                    "forward": Decision(
                        "forward", gettext_lazy("转信源单位核查"), forward, ("reason",)
                    ),
                    "resolve": Decision(
                        "resolve",
                        gettext_lazy("平台自行更正并办结"),
                        resolve,
                        ("outcome", "content", "reason"),
                    ),
                },
                supervisors_act=True,
                outcomes=[(o.value, o.label) for o in svc.PLATFORM_OUTCOMES],
            ),
            "objection_verification": Step(
                "objection_verification",
                gettext_lazy("信源单位核查"),
                {
                    "resolve": Decision(
                        "resolve",
                        gettext_lazy("核查办结"),
                        resolve,
                        ("outcome", "content", "reason"),
                        True,
                    ),
                },
                outcomes=[(o.value, o.label) for o in svc.DEPARTMENT_OUTCOMES],
            ),
        },
        deadline_labels={
            "objection_intake": gettext_lazy("受理期限"),
            "objection_platform_check": gettext_lazy("平台核查期限"),
            "objection_verification": gettext_lazy("信源单位核查期限"),
            "objection_supplement": gettext_lazy("补正期限"),
        },
        status_labels=lambda: dict(Status.choices),
        detail_template="objections/_case.html",
        submit=svc.objection_submit,
        supplement=lambda *, case, by, text, files=(): svc.objection_supplement(
            objection=case, by=by, text=text, files=files
        ),
        withdraw=lambda *, case, by, reason="": svc.objection_withdraw(
            objection=case, by=by, reason=reason
        ),
        lapse=lambda *, case, at: svc.objection_lapse(objection=case, at=at),
        add_evidence=lambda *, case, by, files: svc.objection_add_evidence(
            objection=case, by=by, files=files
        ),
        to_lapse=objections_to_lapse,
        is_open=lambda case: case.is_open,
        needs_supplement=lambda case: case.status == Status.NEEDS_SUPPLEMENT,
        extra={"outcomes": Outcome.choices},
    )
)
