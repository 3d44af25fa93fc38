"""Reads every case kind shares: deadlines, timeline, decision document, evidence list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from workflow_app.audit.services import timeline_for
from workflow_app.compiled import CompiledQuery
from workflow_app.registry.models import DecisionDocument
from workflow_app.workdays.deadlines import deadline_as_dict, deadlines_for_case

_LATEST_DECISION = CompiledQuery(
    lambda case_kind, case_id: DecisionDocument.objects.filter(
        case_kind=case_kind, case_id=case_id
    ).order_by("-issued_at", "-id")[:1],
    str,
    int,
)


def case_decision(case: Any) -> DecisionDocument | None:
    return _LATEST_DECISION.first(case.CASE_KIND, case.pk)


def is_staff_viewer(viewer: Any) -> bool:
    return bool(viewer is None or getattr(viewer, "is_staff_member", False))


def case_deadlines(
    case_kind: str, case_id: int
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The deadline people must act on now (the open one that ends first) and all of the case's
    deadlines, oldest first, in the API's shape."""
    deadlines = deadlines_for_case(case_kind, case_id)
    open_ones = [d for d in deadlines if d.status == "open"]
    current = min(open_ones, key=lambda d: (d.due_at, d.pk)) if open_ones else None
    return (deadline_as_dict(current) if current else None), [
        deadline_as_dict(d) for d in deadlines
    ]


def case_common_dict(case: Any, *, viewer: Any = None) -> dict[str, Any]:
    """``deadline`` (the open one), ``deadlines``, ``timeline``, ``evidence`` and
    ``verification_code`` of any case. Queue handling entries are shown to staff only."""
    current, deadlines = case_deadlines(case.CASE_KIND, case.pk)
    decision = case_decision(case)
    evidence = getattr(case, "evidence", None)
    return {
        "deadline": current,
        "deadlines": deadlines,
        "timeline": timeline_for(case.CASE_KIND, case.pk, include_internal=is_staff_viewer(viewer)),
        "evidence": [
            {"id": e.pk, "name": e.original_name, "size": e.size, "stage": e.stage}
            for e in evidence.all()
        ]
        if evidence is not None
        else [],
        "verification_code": decision.code if decision else None,
        "decision_status": decision.status if decision else None,
    }


def cases_visible_to(qs: QuerySet[Any], user: Any, *, department_field: str) -> QuerySet[Any]:
    """Who sees which cases (SPEC §1): applicants their own subject's; centre staff,
    supervisors and administrators all; department caseworkers those about their department
    (``department_field`` names the department the case is about)."""
    if not user.is_authenticated:
        return qs.none()
    role = user.role
    if role == "applicant":
        return qs.filter(subject_id=user.subject_id) if user.subject_id else qs.none()
    if role in ("centre", "supervisor", "admin"):
        return qs
    if role == "department" and user.department_id:
        return qs.filter(**{department_field: user.department_id})
    return qs.none()
