"""Reads of the repair domain that more than one caller needs."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet, Subquery
from django.utils import timezone

from objections.models import OPEN_STATUSES as OBJECTION_OPEN
from objections.models import Objection
from workflow_app.cases.selectors import case_common_dict, cases_visible_to
from workflow_app.compiled import CompiledQuery
from workflow_app.registry.models import CreditRecord, Subject
from workflow_app.workdays.models import Deadline
from workflow_app.workdays.policy import current_policy

from . import eligibility
from .models import OPEN_STATUSES, Repair, Status

CASE_KIND = Repair.CASE_KIND
DL_SUPPLEMENT = "repair_supplement"


def repairs_visible_to(user: Any) -> QuerySet[Repair]:
    qs = Repair.objects.select_related("record", "record__department", "subject", "applicant")
    return cases_visible_to(qs, user, department_field="record__department_id")


def _open_on_chain(
    model: Any, statuses: Any, subject_id: Any, department_id: Any, external_id: Any
) -> QuerySet[Any]:
    """References of the subject's open cases of ``model`` on a record's version chain (the
    same department and external id)."""
    return (
        model.objects.filter(
            subject_id=subject_id,
            status__in=[s.value for s in statuses],
            record__department_id=department_id,
            record__external_id=external_id,
        )
        .order_by("pk")  # the oldest, should there be two
        .values_list("reference", flat=True)
    )


def _open_objections(subject_id: Any, department_id: Any, external_id: Any) -> QuerySet[Any]:
    return _open_on_chain(Objection, OBJECTION_OPEN, subject_id, department_id, external_id)


def _open_repairs(subject_id: Any, department_id: Any, external_id: Any) -> QuerySet[Any]:
    return _open_on_chain(Repair, OPEN_STATUSES, subject_id, department_id, external_id)


def _approvals(subject_id: Any) -> QuerySet[Repair]:
    """The subject's approved repairs, the most recent first (a revoked approval still counts:
    it was granted)."""
    return Repair.objects.filter(
        subject_id=subject_id,
        status__in=[Status.APPROVED, Status.REVOKED],
        decided_at__isnull=False,
    ).order_by("-decided_at", "-pk")


def open_objection_ref(record: CreditRecord) -> str | None:
    return _open_objections(record.subject_id, record.department_id, record.external_id).first()


def open_repair_ref(record: CreditRecord) -> str | None:
    return _open_repairs(record.subject_id, record.department_id, record.external_id).first()


def last_approval(subject_id: int) -> tuple[str, datetime.datetime] | None:
    """The subject's most recent approved repair."""
    row = _approvals(subject_id).values_list("reference", "decided_at").first()
    return (row[0], row[1]) if row and row[1] else None


# the three reads the eligibility rules need about a record of the applicant's own, as one
# statement (subqueries of the subject's row), compiled once (workflow_app/compiled.py)
_ELIGIBILITY_FACTS = CompiledQuery(
    lambda subject_id, department_id, external_id: (
        Subject.objects.filter(pk=subject_id)
        .annotate(
            open_objection=Subquery(_open_objections(subject_id, department_id, external_id)[:1]),
            open_repair=Subquery(_open_repairs(subject_id, department_id, external_id)[:1]),
            approval_ref=Subquery(_approvals(subject_id).values("reference")[:1]),
            approval_at=Subquery(_approvals(subject_id).values("decided_at")[:1]),
        )
        .only("pk")[:1]
    ),
    int,
    int,
    str,
)


def eligibility_facts(
    record: CreditRecord,
) -> tuple[str | None, str | None, tuple[str, datetime.datetime] | None]:
    """(open objection's reference, open repair's reference, last approval) for a record of the
    subject's own — what :func:`open_objection_ref`, :func:`open_repair_ref` and
    :func:`last_approval` answer, in one round trip."""
    row: Any = _ELIGIBILITY_FACTS.first(record.subject_id, record.department_id, record.external_id)
    if row is None:
        return None, None, None
    approval = (row.approval_ref, row.approval_at) if row.approval_at else None
    return row.open_objection, row.open_repair, approval


def repair_eligibility(
    *,
    subject_id: int | None,
    record: CreditRecord | None,
    params: dict[str, Any] | None = None,
    proof_count: int | None = None,
    commitment_accepted: bool | None = None,
    today: datetime.date | None = None,
) -> list[eligibility.RuleResult]:
    if params is None:
        params = current_policy()[1]
    own = record is not None and subject_id is not None and record.subject_id == subject_id
    facts = eligibility_facts(record) if own and record is not None else (None, None, None)
    return eligibility.evaluate(
        subject_id=subject_id,
        record=record,
        params=params,
        proof_count=proof_count,
        commitment_accepted=commitment_accepted,
        today=today,
        open_objection=facts[0],
        open_repair=facts[1],
        last_approval=facts[2],
    )


def repairable_from(
    records: list[CreditRecord], params: dict[str, Any] | None = None
) -> dict[int, datetime.date]:
    """The first repairable date of each published dishonesty record (report page)."""
    if params is None:
        params = current_policy()[1]
    return {
        r.pk: eligibility.first_repairable_date(r, params)
        for r in records
        if r.nature == "dishonesty"
    }


def open_repairs_for_records(subject_id: int, records: list[CreditRecord]) -> dict[int, Repair]:
    keys = {(r.department_id, r.external_id): r.pk for r in records}
    found: dict[int, Repair] = {}
    qs = Repair.objects.filter(
        subject_id=subject_id, status__in=[s.value for s in OPEN_STATUSES]
    ).select_related("record")
    for rep in qs:
        rid = keys.get((rep.record.department_id, rep.record.external_id))
        if rid is not None:
            found[rid] = rep
    return found


def repairs_to_lapse(now: datetime.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Deadline.objects.filter(
            case_kind=CASE_KIND, kind=DL_SUPPLEMENT, status="open", due_at__lt=now
        ).values_list("case_id", flat=True)
    )


def repair_as_dict(repair: Repair, *, viewer: Any = None) -> dict[str, Any]:
    record = repair.record
    return {
        "id": repair.pk,
        "kind": CASE_KIND,
        "reference": repair.reference,
        "status": repair.status,
        "status_label": repair.get_status_display(),
        "record": {
            "id": record.pk,
            "title": record.title,
            "category": record.category,
            "severity": record.severity,
            "department": record.department.code,
            "decision_date": record.decision_date.isoformat(),
            "status": record.status,
        },
        "correction_statement": repair.correction_statement,
        "commitment_text": repair.commitment_text,
        "commitment_accepted": repair.commitment_accepted,
        "eligibility": eligibility.with_labels(repair.eligibility),
        "supplement_request": repair.supplement_request,
        "supplement_step": repair.supplement_step or None,
        "supplement_response": repair.supplement_response,
        "decision_reason": repair.decision_reason,
        "filed_at": repair.filed_at.isoformat(),
        "decided_at": repair.decided_at.isoformat() if repair.decided_at else None,
        "revoked_at": repair.revoked_at.isoformat() if repair.revoked_at else None,
        "revocation_reason": repair.revocation_reason or None,
        **case_common_dict(repair, viewer=viewer),
    }
