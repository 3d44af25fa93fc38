"""Reads of the registry used by pages, the API and other apps."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workflow_app.compiled import CompiledQuery

from .identifiers import lookup_candidates, mask_name
from .models import CreditRecord, DecisionDocument, Department, RecordStatus, Subject, SubjectKind
from .services import CODE_ALPHABET, CODE_LENGTH, format_code


def subject_by_identifier(raw: str) -> Subject | None:
    """The subject a typed identifier denotes: a 统一社会信用代码, a resident ID, or a natural
    person's lookup key (as used in links). ``None`` when invalid or unknown."""
    try:
        candidates = lookup_candidates(raw)
    except ValidationError:
        return None
    for kind, key in candidates:
        subject = _SUBJECT.first(kind, key)
        if subject is not None:
            return subject
    return None


# the public report's reads, compiled once (workflow_app/compiled.py): a report is a handful of
# index reads, and turning their querysets into SQL on every request cost more CPU than the
# database took to answer them (issue 10: report p95 at 16 clients)
_SUBJECT = CompiledQuery(
    lambda kind, key: Subject.objects.filter(kind=kind, identifier=key).order_by("pk")[:1], str, str
)


# the departments every queue and case list offers as a filter, compiled once
_DEPARTMENTS = CompiledQuery(lambda: Department.objects.order_by("code"))


def departments_all() -> list[Department]:
    """Every department, by code (the pages' department filters)."""
    return _DEPARTMENTS()


def can_view_subject_report(user: Any, subject: Subject) -> bool:
    """A legal person's report is public; a natural person's only for that person and staff."""
    if subject.kind == SubjectKind.LEGAL_PERSON:
        return True
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or getattr(user, "is_staff_member", False):
        return True
    return getattr(user, "subject_id", None) == subject.pk


def can_object_to(user: Any, subject: Subject) -> bool:
    """Whether ``user`` is an applicant acting for ``subject`` (may file objections)."""
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "is_applicant", False)
        and getattr(user, "subject_id", None) == subject.pk
    )


_REPORT_RECORDS = CompiledQuery(
    lambda subject_id: (
        CreditRecord.objects.filter(subject_id=subject_id, status=RecordStatus.PUBLISHED)
        .select_related("department")
        .order_by("-decision_date", "-id")
    ),
    int,
)


def report_records(subject: Subject) -> list[CreditRecord]:
    """The records shown on the public report: published versions only, newest first."""
    return _REPORT_RECORDS(subject.pk)


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None


def record_as_report_item(record: CreditRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "category": record.category,
        "nature": record.nature,
        "severity": record.severity,
        "title": record.title,
        "status": record.status,
        "under_objection": record.under_objection,
        "decision_date": _date(record.decision_date),
        "publicity_end": _date(record.publicity_end),
        "department": record.department.name,
        "note": record.note,
    }


def subject_as_dict(subject: Subject) -> dict[str, Any]:
    return {
        "kind": subject.kind,
        "name": subject.name,
        "identifier": subject.identifier_display,
        "grade": subject.grade,
        "red_list": subject.red_list,
        "black_list": subject.black_list,
    }


def report_as_dict(subject: Subject, viewer: Any = None) -> dict[str, Any]:
    """The public report as the API returns it (SPEC §12), with the sections other layers add
    (a subject's commitments) as the viewer may see them."""
    from workflow_app.cases.hooks import report_sections

    data: dict[str, Any] = {
        "subject": subject_as_dict(subject),
        "records": [record_as_report_item(r) for r in report_records(subject)],
    }
    for section in report_sections(subject, viewer):
        data[section["key"]] = section["items"]
    return data


def normalise_code(raw: str) -> str | None:
    """``abcd efgh-jkmn…`` → ``ABCD-EFGH-JKMN-PQRS``; ``None`` when it cannot be a code."""
    value = re.sub(r"[\s\-–—_]", "", (raw or "").upper())
    if len(value) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in value):
        return None
    return format_code(value)


def decision_by_code(code: str) -> DecisionDocument | None:
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return DecisionDocument.objects.select_related("subject").filter(code=normalised).first()


DECISION_LABELS = {
    "not_accepted": _("不予受理"),
    "confirmed": _("维持原信息"),
    "modified": _("更正信息"),
    "deleted": _("删除信息"),
    "undetermined": _("无法确认，维持并加注说明"),
    "approved": _("准予信用修复"),
    "rejected": _("不予信用修复"),
    "breach_confirmed": _("确认违背信用承诺"),
}


def decision_label(code: str) -> str:
    return str(DECISION_LABELS.get(code, code))


def decision_summary(document: DecisionDocument) -> str:
    """The summary in the reader's language (documents issued before codes keep their text)."""
    if document.summary_code:
        from workflow_app.cases.messages import render_message

        return render_message(document.summary_code, document.summary_params)
    return document.summary


def decision_public_name(document: DecisionDocument) -> str:
    """The subject's name as the public may see it (natural persons masked)."""
    subject = document.subject
    if subject.kind == SubjectKind.NATURAL_PERSON:
        return mask_name(subject.name)
    return subject.name


def decision_as_dict(document: DecisionDocument) -> dict[str, Any]:
    """What anyone holding the code may see."""
    in_force = document.status == DecisionDocument.Status.IN_FORCE
    return {
        "code": document.code,
        "title": document.title,
        "decision": document.decision,
        "decision_label": decision_label(document.decision),
        "summary": decision_summary(document),
        "case_reference": document.case_reference,
        "subject": decision_public_name(document),
        "issued_at": document.issued_at.isoformat(),
        "issued_by": document.issued_by,
        "status": document.status,
        "in_force": in_force,
        "revoked_at": document.revoked_at.isoformat() if document.revoked_at else None,
        "revocation_reason": document.revocation_reason or None,
    }
