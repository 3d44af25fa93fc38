"""Reads of the objection domain that more than one caller needs."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from workflow_app.audit.services import timeline_for
from workflow_app.registry.models import CreditRecord, DecisionDocument
from workflow_app.workdays.deadlines import deadline_as_dict, deadlines_for_case
from workflow_app.workdays.models import Deadline

from .models import Objection

CASE_KIND = "objection"
DL_SUPPLEMENT = "objection_supplement"


def objection_status(objection_id: int) -> str:
    return Objection.objects.values_list("status", flat=True).get(pk=objection_id)


def objections_visible_to(user: Any) -> QuerySet[Objection]:
    """Applicants see their own subject's objections; centre staff and supervisors see all;
    department staff see objections about records of their department."""
    qs = Objection.objects.select_related("record", "record__department", "subject", "applicant")
    if not user.is_authenticated:
        return qs.none()
    role = user.role
    if role == "applicant":
        return qs.filter(subject_id=user.subject_id) if user.subject_id else qs.none()
    if role in ("centre", "supervisor", "admin"):
        return qs
    if role == "department" and user.department_id:
        return qs.filter(record__department_id=user.department_id)
    return qs.none()


def objections_to_lapse(now: datetime.datetime | None = None) -> list[int]:
    """Ids of objections whose supplement period has passed."""
    now = now or timezone.now()
    return list(
        Deadline.objects.filter(
            case_kind=CASE_KIND, kind=DL_SUPPLEMENT, status="open", due_at__lt=now
        ).values_list("case_id", flat=True)
    )


def objection_decision(objection: Objection) -> DecisionDocument | None:
    return (
        DecisionDocument.objects.filter(case_kind=CASE_KIND, case_id=objection.pk)
        .order_by("-issued_at")
        .first()
    )


def objection_current_deadline(objection: Objection) -> dict[str, Any] | None:
    d = (
        deadlines_for_case(CASE_KIND, objection.pk)
        .filter(status="open")
        .order_by("-created_at", "-id")
        .first()
    )
    return deadline_as_dict(d) if d else None


def objection_as_dict(objection: Objection) -> dict[str, Any]:
    decision = objection_decision(objection)
    record = objection.record
    current = (
        CreditRecord.objects.filter(
            department_id=record.department_id, external_id=record.external_id
        )
        .exclude(status="corrected")
        .order_by("-version")
        .first()
    ) or record
    return {
        "id": objection.pk,
        "reference": objection.reference,
        "status": objection.status,
        "status_label": objection.get_status_display(),
        "outcome": objection.outcome or None,
        "grounds": objection.grounds,
        "description": objection.description,
        "commitment_accepted": objection.commitment_accepted,
        "supplement_request": objection.supplement_request,
        "supplement_response": objection.supplement_response,
        "decision_reason": objection.decision_reason,
        "record": {
            "id": record.pk,
            "title": record.title,
            "category": record.category,
            "department": record.department.code,
            "status": record.status,
            "under_objection": current.under_objection,
            "current_version": current.pk,
        },
        "result_record": objection.result_record_id,
        "filed_at": objection.filed_at.isoformat(),
        "decided_at": objection.decided_at.isoformat() if objection.decided_at else None,
        "deadline": objection_current_deadline(objection),
        "deadlines": [deadline_as_dict(d) for d in deadlines_for_case(CASE_KIND, objection.pk)],
        "timeline": timeline_for(CASE_KIND, objection.pk),
        "evidence": [
            {"id": e.pk, "name": e.original_name, "size": e.size, "stage": e.stage}
            for e in objection.evidence.all()
        ],
        "verification_code": decision.code if decision else None,
    }
