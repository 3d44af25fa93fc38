"""Reads of the objection domain that more than one caller needs."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from workflow_app.cases.selectors import case_common_dict, cases_visible_to
from workflow_app.registry.models import CreditRecord
from workflow_app.workdays.models import Deadline

from .models import OPEN_STATUSES, Objection

CASE_KIND = Objection.CASE_KIND
OPEN = [s.value for s in OPEN_STATUSES]
DL_SUPPLEMENT = "objection_supplement"


def objection_status(objection_id: int) -> str:
    return Objection.objects.values_list("status", flat=True).get(pk=objection_id)


def objections_visible_to(user: Any) -> QuerySet[Objection]:
    qs = Objection.objects.select_related("record", "record__department", "subject", "applicant")
    return cases_visible_to(qs, user, department_field="record__department_id")


def objections_to_lapse(now: datetime.datetime | None = None) -> list[int]:
    """Ids of objections whose supplement period has passed."""
    now = now or timezone.now()
    return list(
        Deadline.objects.filter(
            case_kind=CASE_KIND, kind=DL_SUPPLEMENT, status="open", due_at__lt=now
        ).values_list("case_id", flat=True)
    )


def objection_as_dict(objection: Objection, *, viewer: Any = None) -> dict[str, Any]:
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
        "kind": CASE_KIND,
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
        **case_common_dict(objection, viewer=viewer),
    }


def objection_open_for_records(subject_id: int, records: list[Any]) -> dict[int, Objection]:
    """The open objection of each record (across versions), keyed by the record id shown."""
    keys = {(r.department_id, r.external_id): r.pk for r in records}
    found: dict[int, Objection] = {}
    qs = Objection.objects.filter(subject_id=subject_id, status__in=OPEN).select_related("record")
    for o in qs:
        rid = keys.get((o.record.department_id, o.record.external_id))
        if rid is not None:
            found[rid] = o
    return found
