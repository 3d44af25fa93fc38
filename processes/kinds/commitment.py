"""The commitment workflow's registration (SPEC §7)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments import services as svc
from commitments.models import OPEN_STATUSES, Commitment, Finding, Kind, Status
from commitments.selectors import commitment_as_dict, commitments_visible_to
from workflow_app.api import ServiceError

from ..registry import CaseKind, Decision, Step, register


def _need(value: str | None, field: str, message: str) -> str:
    if not (value or "").strip():
        raise ServiceError(message, code="invalid", errors=[{"field": field, "message": message}])
    return (value or "").strip()


def fulfilled(case: Commitment, user: Any, d: dict[str, Any], task: str) -> str:
    svc.commitment_fulfil(commitment=case, by=user, reason=d.get("reason", ""), task=task)
    return ""


def breach_suspected(case: Commitment, user: Any, d: dict[str, Any], task: str) -> str:
    svc.commitment_suspect_breach(
        commitment=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明违诺情形。")),
        finding=d.get("outcome") or Finding.NOT,
        unmet=d.get("content", ""),
        task=task,
    )
    return "review"


def confirm(case: Commitment, user: Any, d: dict[str, Any], task: str) -> str:
    svc.commitment_confirm_breach(
        commitment=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明认定理由。")),
        task=task,
    )
    return ""


def dismiss(case: Commitment, user: Any, d: dict[str, Any], task: str) -> str:
    svc.commitment_dismiss(
        commitment=case,
        by=user,
        reason=_need(d.get("reason"), "reason", _("请写明驳回理由。")),
        task=task,
    )
    return "idle"


def _page_context(request: Any, case: Commitment) -> dict[str, Any]:
    from ..views import commitment_page_context

    return commitment_page_context(request, case)


def _initial_route(case: Commitment) -> str:
    return "verify" if case.kind in (Kind.NOTIFICATION, Kind.DEFICIENCY) else ""


def _list_item(c: Commitment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "reference": c.reference,
        "kind": c.kind,
        "status": c.status,
        "matter_title": c.matter_title,
        "department": c.department.code if c.department else None,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "signed_at": c.signed_at.isoformat(),
    }


COMMITMENT = register(
    CaseKind(
        code="commitment",
        related=svc.RELATED,
        open_statuses=tuple(str(s) for s in OPEN_STATUSES),
        label=gettext_lazy("信用承诺"),
        model=Commitment,
        url_prefix="commitments",
        flow_path="processes.flows.CommitmentFlow",
        visible_to=commitments_visible_to,
        as_dict=commitment_as_dict,
        steps={
            "commitment_verification": Step(
                "commitment_verification",
                gettext_lazy("承诺核查"),
                {
                    "fulfilled": Decision(
                        "fulfilled", gettext_lazy("已履约"), fulfilled, ("reason",)
                    ),
                    "breach_suspected": Decision(
                        "breach_suspected",
                        gettext_lazy("疑似违诺，转主管审查"),
                        breach_suspected,
                        ("outcome", "content", "reason"),
                        True,
                    ),
                },
                outcomes=[
                    (Finding.NOT.value, Finding.NOT.label),
                    (Finding.PARTLY.value, Finding.PARTLY.label),
                ],
            ),
            "breach_review": Step(
                "breach_review",
                gettext_lazy("违诺审查"),
                {
                    "confirm": Decision(
                        "confirm", gettext_lazy("确认违诺"), confirm, ("reason",), True
                    ),
                    "dismiss": Decision(
                        "dismiss", gettext_lazy("驳回，恢复履约中"), dismiss, ("reason",), True
                    ),
                },
            ),
        },
        deadline_labels={
            "commitment_verification": gettext_lazy("承诺核查期限"),
            "breach_review": gettext_lazy("违诺审查期限"),
        },
        status_labels=lambda: dict(Status.choices),
        detail_template="commitments/_case.html",
        submit=svc.commitment_sign,
        is_open=lambda case: case.is_open,
        initial_route=_initial_route,
        queue_related=("subject",),
        search_fields=("reference", "subject__name", "subject__identifier_display", "matter_title"),
        department_field="department__code",
        filed_field="signed_at",
        list_title=("matter_title", "breach_record__title"),
        queue_row=lambda c: {
            "subject_name": c.subject.name,
            "record_title": c.matter_title,
            "department_id": c.department_id,
        },
        page_context=lambda request, case: _page_context(request, case),
        order_by=("-signed_at", "-id"),
        list_item=_list_item,
        extra={
            "new_url": "commitment-new",
            "content_label": gettext_lazy("未履约事项（可选）"),
            "outcome_label": gettext_lazy("核查结论"),
        },
    )
)
