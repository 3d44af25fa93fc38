"""Reads of commitments."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from workflow_app.cases.selectors import case_common_dict

from .models import Commitment


def commitments_visible_to(user: Any) -> QuerySet[Commitment]:
    """Owners see their subject's commitments; centre staff and supervisors all; departments
    those of their matters."""
    qs = Commitment.objects.select_related("subject", "department", "repair")
    if not user.is_authenticated:
        return qs.none()
    if user.role == "applicant":
        return qs.filter(subject_id=user.subject_id) if user.subject_id else qs.none()
    if user.role in ("centre", "supervisor", "admin"):
        return qs
    if user.role == "department" and user.department_id:
        return qs.filter(department_id=user.department_id)
    return qs.none()


def commitment_as_dict(c: Commitment, *, viewer: Any = None) -> dict[str, Any]:
    return {
        "id": c.pk,
        "reference": c.reference,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "status": c.status,
        "status_label": c.get_status_display(),
        "subject": {"identifier": c.subject.identifier_display, "name": c.subject.name},
        "department": c.department.code if c.department else None,
        "matter_reference": c.matter_reference,
        "matter_title": c.matter_title,
        "text": c.text,
        "liability": c.liability,
        "publicity": c.publicity,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "repair": c.repair_id,
        "signed_at": c.signed_at.isoformat(),
        **{k: v for k, v in case_common_dict(c, viewer=viewer).items() if k != "evidence"},
    }


def commitment_for_repair(repair_id: int) -> Commitment | None:
    return Commitment.objects.filter(repair_id=repair_id).first()
