"""Reads of commitments that more than one caller needs."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from workflow_app.cases.selectors import case_common_dict, cases_visible_to
from workflow_app.compiled import CompiledQuery
from workflow_app.registry.models import Department, RecordStatus, Subject
from workflow_app.workdays.models import Deadline

from .models import Commitment, Kind, Publicity, Status

CASE_KIND = Commitment.CASE_KIND
UNDER_CHECK_DEADLINES = ("commitment_verification", "breach_review")


def commitments_visible_to(user: Any) -> QuerySet[Commitment]:
    """Owners see their subject's commitments; centre staff and supervisors all; departments
    those of their matters."""
    qs = Commitment.objects.select_related(
        "subject", "department", "repair", "signer", "breach_record"
    )
    return cases_visible_to(qs, user, department_field="department_id")


# read by every signing (the exclusion check) and the subject's commitment page, compiled once
# (workflow_app/compiled.py)
_UNREPAIRED_BREACHES = CompiledQuery(
    lambda subject_id: (
        Commitment.objects.filter(
            subject_id=subject_id,
            status=Status.BREACH_CONFIRMED,
            breach_record__status=RecordStatus.PUBLISHED,
        )
        .select_related("breach_record")
        .order_by("-reviewed_at", "-pk")
    ),
    int,
)


def unrepaired_breaches(subject: Subject) -> list[Commitment]:
    """Confirmed breaches whose dishonesty record is still published (not repaired), the most
    recently confirmed first."""
    return _UNREPAIRED_BREACHES(subject.pk)


def _under_check() -> Exists:
    return Exists(
        Deadline.objects.filter(
            case_kind=CASE_KIND,
            case_id=OuterRef("pk"),
            kind__in=UNDER_CHECK_DEADLINES,
            status="open",
        )
    )


def random_check_population(department: Department | None = None) -> list[list[Any]]:
    """Active commitments with a department and no verification or review under way:
    ``[[id, grade, red_list, department_code], …]`` sorted by id (one set-based query)."""
    qs = Commitment.objects.filter(status=Status.ACTIVE, department__isnull=False).exclude(
        _under_check()
    )
    if department is not None:
        qs = qs.filter(department=department)
    return [
        [cid, grade or "", bool(red), code]
        for cid, grade, red, code in qs.order_by("id").values_list(
            "id", "subject__grade", "subject__red_list", "department__code"
        )
    ]


# a statement carries at most 65,535 parameters on PostgreSQL (32,766 on SQLite)
_DRAWN_SLICE = 10_000


def random_check_drawn(drawn: list[int]) -> list[Commitment]:
    """A random check's drawn commitments, in the order drawn, read in slices so that a draw of
    any size stays within a statement's parameter limit."""
    found: dict[int, Commitment] = {}
    for start in range(0, len(drawn), _DRAWN_SLICE):
        found.update(
            Commitment.objects.filter(pk__in=drawn[start : start + _DRAWN_SLICE])
            .select_related("subject", "department")
            .in_bulk()
        )
    return [found[pk] for pk in drawn if pk in found]


def commitments_past_due(now: datetime.datetime | None = None) -> tuple[list[int], list[int]]:
    """``(deficiency ids to lapse, other ids whose due date passed unfulfilled)``."""
    today = timezone.localdate(now or timezone.now())
    rows = Commitment.objects.filter(
        status=Status.ACTIVE, due_date__isnull=False, due_date__lt=today
    ).values_list("id", "kind")
    lapse = [cid for cid, kind in rows if kind == Kind.DEFICIENCY]
    breach = [cid for cid, kind in rows if kind != Kind.DEFICIENCY]
    return lapse, breach


def public_commitments(subject: Subject, viewer: Any = None) -> list[Commitment]:
    """What a report shows: ``public`` ones to everyone; ``restricted`` ones too to staff; all
    of them to the owner (珠海 承诺公示)."""
    owner = (
        getattr(viewer, "subject_id", None) == subject.pk
        and getattr(viewer, "role", "") == "applicant"
    )
    staff = getattr(viewer, "is_staff_member", False)
    return _PUBLIC_COMMITMENTS["owner" if owner else "staff" if staff else "public"](subject.pk)


def _commitments_shown(publicity: tuple[str, ...]) -> CompiledQuery[Commitment]:
    """A report's commitments read for one audience, compiled once (every report reads them)."""

    def build(subject_id: int) -> QuerySet[Commitment]:
        qs = Commitment.objects.filter(subject_id=subject_id).select_related("department")
        if publicity:
            qs = qs.filter(publicity__in=publicity)
        return qs.order_by("-signed_at", "-id")[:200]

    return CompiledQuery(build, int)


_PUBLIC_COMMITMENTS = {
    "owner": _commitments_shown(()),
    "staff": _commitments_shown((Publicity.PUBLIC, Publicity.RESTRICTED)),
    "public": _commitments_shown((Publicity.PUBLIC,)),
}


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
        "matter_status": c.matter_status or None,
        "text": c.text,
        "liability": c.liability,
        "publicity": c.publicity,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "repair": c.repair_id,
        "signed_at": c.signed_at.isoformat(),
        "fulfilment_note": c.fulfilment_note,
        "finding": c.finding or None,
        "finding_unmet": c.finding_unmet,
        "found_by": c.found_by.username if c.found_by_id else None,  # type: ignore[union-attr]
        "found_at": c.found_at.isoformat() if c.found_at else None,
        "breach_reason": c.breach_reason,
        "review_reason": c.review_reason,
        "breach_record": c.breach_record_id,
        **case_common_dict(c, viewer=viewer),
    }


def commitment_for_repair(repair_id: int) -> Commitment | None:
    return Commitment.objects.filter(repair_id=repair_id).first()


MEASURE_TEXTS = {  # marked for translation; rendered in the reader's language below
    "restricted_approval": (
        gettext_noop("失信黑名单主体：依法从严审核行政许可，不适用简化程序。"),
        gettext_noop("失信黑名单（宝安：黑名单限制审批）"),
    ),
    "no_commitment_approval": (
        gettext_noop("不适用告知承诺制和容缺受理，须按一般程序提交全部材料。"),
        gettext_noop("SPEC §7：黑名单或违诺未修复主体不得签署告知承诺、容缺受理承诺"),
    ),
    "more_checks": (
        gettext_noop("列为重点监管对象，提高抽查比例和频次。"),
        gettext_noop("双随机抽查：按信用等级确定抽查比例"),
    ),
    "green_channel": (
        gettext_noop("守信红名单主体：可适用绿色通道、容缺受理等便利措施。"),
        gettext_noop("守信红名单（联合激励）"),
    ),
    "fewer_checks": (
        gettext_noop("降低抽查比例（按等级比例的一半）。"),
        gettext_noop("双随机抽查：红名单主体抽查比例减半（福田）"),
    ),
}


def credit_check_result(subject: Subject) -> dict[str, Any]:
    """What staff see before approving a matter: the subject, its published dishonesty records,
    its unrepaired breaches, which commitment-based approvals it may use, and the measures that
    apply with their basis. Built from a handful of queries."""
    from django.utils.translation import gettext as _t

    from workflow_app.registry.models import CreditRecord

    records = list(
        CreditRecord.objects.filter(
            subject=subject, status=RecordStatus.PUBLISHED, nature="dishonesty"
        )
        .select_related("department")
        .order_by("-decision_date")[:100]
    )
    breaches = unrepaired_breaches(subject)
    excluded = bool(subject.black_list or breaches)
    codes: list[str] = []
    if subject.black_list:
        codes += ["restricted_approval", "no_commitment_approval", "more_checks"]
    elif breaches:
        codes += ["no_commitment_approval", "more_checks"]
    if subject.red_list and not subject.black_list:
        codes += ["green_channel", "fewer_checks"]
    return {
        "subject": {
            "identifier": subject.identifier_display,
            "name": subject.name,
            "kind": subject.kind,
            "grade": subject.grade,
            "red_list": subject.red_list,
            "black_list": subject.black_list,
        },
        "dishonesty_records": [
            {
                "id": r.pk,
                "title": r.title,
                "category": r.category,
                "severity": r.severity,
                "department": r.department.code,
                "decision_date": r.decision_date.isoformat(),
            }
            for r in records
        ],
        "unrepaired_breaches": [
            {
                "commitment": b.reference,
                "kind": b.kind,
                "matter_title": b.matter_title,
                "record": b.breach_record_id,
                "confirmed_at": b.reviewed_at.isoformat() if b.reviewed_at else None,
            }
            for b in breaches
        ],
        "eligible": {"notification": not excluded, "deficiency": not excluded},
        "measures": [
            {"code": c, "text": _t(MEASURE_TEXTS[c][0]), "basis": _t(MEASURE_TEXTS[c][1])}
            for c in codes
        ],
    }


def report_section(subject: Subject, viewer: Any = None) -> dict[str, Any]:
    """The commitments section of a credit report (registered with the kernel's hook)."""
    items = [
        {
            "reference": c.reference,
            "kind": c.kind,
            "kind_label": str(c.get_kind_display()),
            "matter_title": c.matter_title,
            "department": c.department.code if c.department else None,
            "department_name": c.department.display_name if c.department else None,
            "signed_date": timezone.localdate(c.signed_at).isoformat(),
            "status": c.status,
            "status_label": str(c.get_status_display()),
            "publicity": c.publicity,
            "publicity_label": str(c.get_publicity_display()),
        }
        for c in public_commitments(subject, viewer)
    ]
    return {"key": "commitments", "template": "commitments/_report_section.html", "items": items}


def credit_checks_section(subject: Subject, viewer: Any = None) -> dict[str, Any] | None:
    """Staff see, on a subject's report, every credit check made on it and the measure each
    department reported — the check-then-feedback loop of joint reward and punishment."""
    if not getattr(viewer, "is_staff_member", False):
        return None
    from .models import CreditCheck

    items = [
        {
            "id": c.pk,
            "checked_at": timezone.localtime(c.checked_at).strftime("%Y-%m-%d %H:%M"),
            "checked_by": c.checked_by.username,
            "department": c.department.code if c.department else None,
            "matter_reference": c.matter_reference,
            "measures": [m["code"] for m in (c.result or {}).get("measures", [])],
            "feedback_measure": c.feedback_measure or None,
            "feedback_note": c.feedback_note,
        }
        for c in CreditCheck.objects.filter(subject=subject)
        .select_related("checked_by", "department")
        .order_by("-checked_at")[:50]
    ]
    return {
        "key": "credit_checks",
        "template": "commitments/_credit_checks_section.html",
        "items": items,
    }
