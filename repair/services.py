"""Repair services: one per transition of SPEC §6.

Each runs through the kernel's ``case_transition`` (one transaction on the locked repair row,
transition and permission checked, history reason, hash-chained audit entry stored as a code)
and adds the repair's own effects: eligibility at filing, deadlines from the case's policy
snapshot, the record's publication (``repaired``, published again on revocation), the repair
decision document and the notifications.

The repair commitment that an approval creates is not made here: ``repair`` never imports
``commitments`` (commitments call repair on a breach, never the reverse). The approval handler
in ``processes`` calls both services in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import case_context, notify_case, notify_queue
from workflow_app.accounts.models import QUEUE_CENTRE, QUEUE_SUPERVISORS, User, department_queue
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.cases.evidence import evidence_add_to_open_case, evidence_store
from workflow_app.cases.transitions import (
    audit_case,
    case_deadline_open,
    case_deadlines_close,
    case_deadlines_open,
    case_next_id,
    case_supplement_deadline_open,
    case_transition,
    save_case,
)
from workflow_app.registry import services as registry
from workflow_app.registry.models import DecisionDocument, RecordStatus
from workflow_app.uploads import check_evidence_files
from workflow_app.workdays.policy import policy_snapshot

from . import (
    eligibility,
    messages,  # noqa: F401  (registers the message codes)
)
from . import notifications as events  # noqa: F401  (registers the event templates)
from .models import Evidence, Repair, Status
from .selectors import repair_eligibility

CASE_KIND = Repair.CASE_KIND

DL_INTAKE = "repair_intake"
DL_DECISION = "repair_decision"
DL_TOTAL = "repair_total"
DL_SUPPLEMENT = "repair_supplement"

APPLICANT_QUEUE = "applicant"
RELATED = ("record", "record__department", "applicant", "subject")

COMMITMENT_TEMPLATE = gettext_lazy(
    "本单位/本人郑重承诺：已纠正失信行为、履行相关义务，所提交材料真实、有效；修复后严格遵守法律法规，"
    "不再发生同类失信行为；如违背承诺或提供虚假材料，自愿接受撤销修复决定、重新公示失信信息"
    "并依法承担相应责任。"
)


def commitment_template() -> str:
    return str(COMMITMENT_TEMPLATE)


def case_url(repair: Repair) -> str:
    return reverse("repair-detail", args=[repair.pk])


def _context(case: Any, **extra: Any) -> dict[str, Any]:
    return case_context(case, **extra)


def _notify_applicant(case: Any, event: str, **extra: Any) -> None:
    notify_case(case, event, recipients=[case.applicant], **extra)


def _case_ref(repair: Repair, **extra: Any) -> dict[str, Any]:
    return {"kind": CASE_KIND, "id": repair.pk, "reference": repair.reference, **extra}


def _issue_decision(
    repair: Repair, *, by: User | None, decision: str, summary: str, params: dict[str, Any]
) -> DecisionDocument:
    dept = repair.record.department
    issuer = (
        dept.name
        if decision == "approved" or repair.routed_at
        else _("公共信用信息平台（信用中心）")
    )
    return registry.decision_issue(
        case_kind=CASE_KIND,
        case_id=repair.pk,
        case_reference=repair.reference,
        subject=repair.subject,
        record=repair.record,
        title=str(_("信用修复决定书")),
        decision=decision,
        summary_code=summary,
        summary_params=params,
        issued_by=str(issuer),
        by=by,
    )


# --- filing -------------------------------------------------------------------------------------


def repair_submit(
    *,
    applicant: User,
    record_id: Any,
    correction_statement: str,
    commitment_text: str,
    commitment_accepted: bool,
    files: Sequence[Any] = (),
) -> Repair:
    """File a repair application. Every eligibility rule is evaluated; all failures are refused
    at once (``400 {code: "ineligible", errors: [{rule, message}]}``) and nothing is stored."""
    if not applicant.is_authenticated or applicant.role != "applicant" or not applicant.subject_id:
        raise Forbidden(_("只有已关联信用主体的申请人可以申请信用修复。"))
    if not (correction_statement or "").strip():
        raise ServiceError(
            _("请说明已如何纠正失信行为（如已缴纳罚款、已完成整改）。"),
            code="invalid",
            errors=[{"field": "correction_statement", "message": _("请填写纠正失信行为的说明。")}],
        )
    checked = check_evidence_files(list(files)) if files else []
    snapshot = policy_snapshot()
    # no savepoint of its own inside the filing's transaction: any error ends the whole filing
    with transaction.atomic(savepoint=False):
        # the subject too: the eligibility rules count its other repairs
        record = registry.record_lock_for_filing(record_id, subject=True)
        if record is not None and record.subject_id == applicant.subject_id:
            record = registry.record_current_locked(record, held=True)
        results = repair_eligibility(
            subject_id=applicant.subject_id,
            record=record,
            params=snapshot["params"],
            proof_count=len(checked),
            commitment_accepted=commitment_accepted is True
            and bool((commitment_text or "").strip()),
        )
        failed = eligibility.failures(results)
        if failed:
            raise ServiceError(
                _("不符合信用修复申请条件：%(reasons)s")
                % {"reasons": "；".join(r.message for r in failed)},
                code="ineligible",
                errors=[{"rule": r.rule, "message": r.message, **r.detail} for r in failed],
            )
        assert record is not None
        now = timezone.now()
        pk = case_next_id(Repair)
        repair = Repair(
            pk=pk,
            reference=f"XF{timezone.localdate(now):%Y}{pk:07d}",
            subject=record.subject,
            record=record,
            applicant=applicant,
            correction_statement=correction_statement.strip(),
            commitment_text=commitment_text.strip(),
            commitment_accepted=True,
            eligibility=[r.as_dict() for r in results],
            policy_snapshot=snapshot,
            policy_version=snapshot.get("version"),
            filed_at=now,
        )
        try:  # another filing on the record won the race: nothing of this one is kept
            save_case(repair, by=applicant, reason="repair submitted", force_insert=True)
        except IntegrityError:
            raise Conflict(_("该信息已有正在办理的修复申请，请勿重复提交。"), code="duplicate_open")
        evidence_store(model=Evidence, case=repair, files=checked, by=applicant)
        case_deadlines_open(  # the intake step's and the whole case's: one INSERT
            repair,
            [
                {
                    "kind": DL_INTAKE,
                    "days_key": "repair_intake_days",
                    "start_at": now,
                    "queue": QUEUE_CENTRE,
                },
                {
                    "kind": DL_TOTAL,
                    "days_key": "repair_total_days",
                    "start_at": now,
                    "queue": QUEUE_SUPERVISORS,
                },
            ],
        )
        audit_case(
            repair,
            before="",
            by=applicant,
            msg="repair.submitted",
            data={"eligibility": [r.rule for r in results if r.ok]},
        )
        _notify_applicant(repair, "repair.submitted")
        notify_queue(
            queue=QUEUE_CENTRE,
            event="repair.new_task",
            context=_context(repair),
            case_kind=CASE_KIND,
            case_id=repair.pk,
            url=reverse("queue"),
            channels=("inapp",),
        )
        return repair


# --- supplements --------------------------------------------------------------------------------


def repair_request_supplement(*, repair: Repair, by: User, reason: str, task: str = "") -> Repair:
    if not (reason or "").strip():
        raise ServiceError(
            _("请写明需要补正的内容，申请人将据此补充材料。"), code="reason_required"
        )
    with case_transition(
        Repair, repair.pk, "request_supplement", by=by, action=_("要求补正"), related=RELATED
    ) as move:
        obj = move.case
        step_deadline = DL_DECISION if obj.status == Status.UNDER_REVIEW else DL_INTAKE
        move.apply(
            history="supplement requested",
            msg="repair.supplement_requested",
            reason=reason,
            task=task,
            reason_text=reason.strip(),
        )
        case_supplement_deadline_open(obj, DL_SUPPLEMENT, closing=([step_deadline], "stopped"))
        _notify_applicant(obj, "repair.needs_supplement", reason=reason)
        return obj


def repair_supplement(*, repair: Repair, by: User, text: str, files: Sequence[Any] = ()) -> Repair:
    """The applicant supplies what was asked; the case returns to the step that asked, whose
    period counts anew from today."""
    if not (text or "").strip() and not files:
        raise ServiceError(_("请填写补正说明或上传补正材料。"), code="supplement_empty")
    checked = check_evidence_files(list(files)) if files else []
    with case_transition(
        Repair, repair.pk, "supplement", by=by, action=_("补正"), related=RELATED
    ) as move:
        obj = move.case
        move.apply(
            history="supplement given",
            msg="repair.supplemented",
            params={"files": len(checked)},
            reason=text,
            data={"files": [c.name for c in checked]},
            text=(text or "").strip(),
        )
        evidence_store(
            model=Evidence, case=obj, files=checked, by=by, stage=Evidence.Stage.SUPPLEMENT
        )
        # back to the step that asked: the department's decision, or the centre's intake
        deciding = obj.status == Status.UNDER_REVIEW
        case_deadline_open(
            obj,
            DL_DECISION if deciding else DL_INTAKE,
            days_key="repair_decision_days" if deciding else "repair_intake_days",
            start_at=timezone.now(),
            queue=department_queue(obj.record.department.code) if deciding else QUEUE_CENTRE,
            closing=([DL_SUPPLEMENT], "met"),
        )
        _notify_applicant(obj, "repair.supplemented")
        return obj


def repair_lapse(*, repair: Repair, at: datetime.datetime | None = None) -> Repair:
    """System: the supplement period passed without supplements → rejected, with a reason."""
    at = at or timezone.now()
    with case_transition(
        Repair,
        repair.pk,
        "lapse",
        by=None,
        action=_("因补正逾期不予修复"),
        related=RELATED,
        system=True,
    ) as move:
        obj = move.case
        move.apply(history="supplement period passed", msg="repair.lapsed", at=at)
        case_deadlines_close(obj, None, status="lapsed")
        _issue_decision(
            obj, by=None, decision="rejected", summary="repair.decision.lapsed", params={}
        )
        _notify_applicant(obj, "repair.lapsed")
        return obj


# --- centre intake and department decision ------------------------------------------------------


def repair_route(*, repair: Repair, by: User, reason: str = "", task: str = "") -> Repair:
    with case_transition(
        Repair, repair.pk, "route", by=by, action=_("转信源单位决定"), related=RELATED
    ) as move:
        obj = move.case
        dept = obj.record.department
        move.apply(
            history="routed",
            msg="repair.routed",
            params={"department": dept.code},
            reason=reason,
            task=task,
            data={"department": dept.code},
            at=timezone.now(),
        )
        queue = department_queue(dept.code)
        case_deadline_open(
            obj,
            DL_DECISION,
            days_key="repair_decision_days",
            start_at=timezone.now(),
            queue=queue,
            closing=([DL_INTAKE], "met"),
        )
        _notify_applicant(obj, "repair.routed", department=dept.name)
        notify_queue(
            queue=queue,
            event="repair.routed_to_department",
            context=_context(obj, department=dept.name),
            case_kind=CASE_KIND,
            case_id=obj.pk,
            url=reverse("queue"),
        )
        return obj


def repair_reject(*, repair: Repair, by: User, reason: str, task: str = "") -> Repair:
    if not (reason or "").strip():
        raise ServiceError(
            _("不予修复须写明理由，申请人将看到这段说明。"),
            code="reason_required",
            errors=[{"field": "reason", "message": _("请填写不予修复的理由。")}],
        )
    with case_transition(
        Repair, repair.pk, "reject", by=by, action=_("不予修复"), related=RELATED
    ) as move:
        obj = move.case
        move.apply(
            history="rejected",
            msg="repair.rejected",
            reason=reason,
            task=task,
            reason_text=reason.strip(),
            at=timezone.now(),
        )
        case_deadlines_close(obj, None, status="met")
        _issue_decision(
            obj,
            by=by,
            decision="rejected",
            summary="repair.decision.rejected",
            params={"reason": reason.strip()},
        )
        _notify_applicant(obj, "repair.rejected", reason=reason)
        return obj


def repair_approve(*, repair: Repair, by: User, reason: str = "", task: str = "") -> Repair:
    """The determining department approves: the record's publicity ends (``repaired``, history
    kept, synchronised to other platforms) and a repair decision document is issued."""
    with case_transition(
        Repair, repair.pk, "approve", by=by, action=_("准予修复"), related=RELATED
    ) as move:
        obj = move.case
        record = registry.record_current_locked(obj.record)
        if record.status != RecordStatus.PUBLISHED:
            raise Conflict(
                _(
                    "该信用信息已不在公示中（当前状态：%(status)s），无需修复；请选择不予修复并说明理由。"
                )
                % {"status": record.get_status_display()},
                code="record_not_published",
            )
        move.apply(
            history="approved",
            msg="repair.approved",
            reason=reason,
            task=task,
            data={"record_id": record.pk},
            reason_text=(reason or "").strip(),
            at=timezone.now(),
        )
        case_deadlines_close(obj, None, status="met")
        document = _issue_decision(
            obj,
            by=by,
            decision="approved",
            summary="repair.decision.approved",
            params={"record_title": record.title, "reason": (reason or "").strip()},
        )
        registry.record_set_status(
            record=record,
            status=RecordStatus.REPAIRED,
            by=by,
            reason=f"repair {obj.reference} approved",
            case=_case_ref(obj, decision_code=document.code),
            locked=True,
        )
        _notify_applicant(obj, "repair.approved", code=document.code)
        return obj


def repair_withdraw(*, repair: Repair, by: User, reason: str = "") -> Repair:
    with transaction.atomic():
        owner = Repair.objects.filter(pk=repair.pk).values_list("applicant_id", flat=True).first()
        if owner is None or owner != by.pk:
            raise NotFound(_("未找到该信用修复申请。"))
        with case_transition(
            Repair, repair.pk, "withdraw", by=by, action=_("撤回"), related=RELATED
        ) as move:
            obj = move.case
            move.apply(
                history="withdrawn", msg="repair.withdrawn", reason=reason, at=timezone.now()
            )
            case_deadlines_close(obj, None, status="cancelled")
            _notify_applicant(obj, "repair.withdrawn")
            return obj


def repair_revoke(*, repair: Repair, by: User, reason: str) -> Repair:
    """Supervisor: false materials or a confirmed breach of the repair commitment. The record is
    published again until its maximum publicity end (or expires, if that has passed); the
    decision document shows as revoked; the change is synchronised."""
    if not (reason or "").strip():
        raise ServiceError(
            _("撤销修复决定须写明理由（如：提供虚假材料、违背信用修复承诺）。"),
            code="reason_required",
            errors=[{"field": "reason", "message": _("请填写撤销理由。")}],
        )
    if getattr(by, "role", None) != "supervisor":
        raise Forbidden(_("只有主管可以撤销信用修复决定。"))
    with case_transition(
        Repair, repair.pk, "revoke", by=by, action=_("撤销修复决定"), related=RELATED
    ) as move:
        obj = move.case
        record = registry.record_current_locked(obj.record)
        end = eligibility.maximum_publicity_end(record, obj.policy_snapshot["params"])
        today = timezone.localdate()
        status = RecordStatus.PUBLISHED if end >= today else RecordStatus.EXPIRED
        move.apply(
            history="revoked",
            msg="repair.revoked",
            params={"publicity_end": end.isoformat()},
            reason=reason,
            data={"record_id": record.pk, "publicity_end": end.isoformat()},
            reason_text=reason.strip(),
            at=timezone.now(),
        )
        document = (
            DecisionDocument.objects.filter(
                case_kind=CASE_KIND, case_id=obj.pk, decision="approved"
            )
            .order_by("-issued_at")
            .first()
        )
        if document is not None and document.status == DecisionDocument.Status.IN_FORCE:
            registry.decision_revoke(document=document, reason=reason.strip(), by=by)
        registry.record_set_status(
            record=record,
            status=status,
            by=by,
            reason=f"repair {obj.reference} revoked",
            publicity_end=end,
            case=_case_ref(obj, decision_code=document.code if document else None),
            locked=True,
        )
        _notify_applicant(obj, "repair.revoked", reason=reason, publicity_end=end.isoformat())
        return obj


def repair_add_evidence(*, repair: Repair, by: User, files: Sequence[Any]) -> list[Any]:
    """The owner adds materials to an open repair (no change of state)."""
    return evidence_add_to_open_case(
        model=Repair, evidence=Evidence, case_id=repair.pk, by=by, files=files
    )
