"""Objection services: one per transition of SPEC §5.

Each service runs through the kernel's :func:`~workflow_app.cases.transitions.case_transition`
(one transaction, the objection row locked, the transition and its permission checked, saved
with a history reason, the hash-chained audit entry written as a code) and adds what is the
objection's own: deadlines, the credit record (mark, new version, withdrawal), the decision
document and the notifications (outbox rows, delivered after commit).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import case_context, notify_case, notify_queue
from workflow_app.accounts.models import QUEUE_CENTRE, User, department_queue
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.cases.evidence import evidence_add_to_open_case, evidence_store
from workflow_app.cases.transitions import (
    audit_case,
    case_deadline_open,
    case_deadlines_close,
    case_next_id,
    case_supplement_deadline_open,
    case_transition,
    save_case,
)
from workflow_app.compiled import CompiledQuery
from workflow_app.registry import services as registry
from workflow_app.registry.models import RecordStatus
from workflow_app.uploads import check_evidence_files
from workflow_app.workdays.policy import policy_snapshot

from . import messages  # noqa: F401  (registers the message codes)
from . import notifications as events  # noqa: F401  (registers the event templates)
from .models import OPEN_STATUSES, Evidence, Grounds, Objection, Outcome, Status

CASE_KIND = Objection.CASE_KIND

# Deadline kinds (also the step codes of the tasks they belong to).
DL_INTAKE = "objection_intake"
DL_PLATFORM_CHECK = "objection_platform_check"
DL_VERIFICATION = "objection_verification"
DL_SUPPLEMENT = "objection_supplement"

APPLICANT_QUEUE = "applicant"
RELATED = ("record", "record__department", "applicant", "subject")


# --- helpers ------------------------------------------------------------------------------------


def case_url(objection: Objection) -> str:
    return reverse("objection-detail", args=[objection.pk])


def _context(case: Any, **extra: Any) -> dict[str, Any]:
    return case_context(case, **extra)


def _notify_applicant(case: Any, event: str, **extra: Any) -> None:
    notify_case(case, event, recipients=[case.applicant], **extra)


def _issue_decision(
    objection: Objection, *, by: User | None, decision: str, summary: str, params: dict[str, Any]
) -> Any:
    dept = objection.record.department
    by_department = (
        objection.status == Status.RESOLVED and by is not None and by.role == "department"
    )
    return registry.decision_issue(
        case_kind=CASE_KIND,
        case_id=objection.pk,
        case_reference=objection.reference,
        subject=objection.subject,
        record=objection.result_record or objection.record,
        title=str(_("信用信息异议处理结果")),
        decision=decision,
        summary_code=summary,
        summary_params=params,
        issued_by=dept.name if by_department else str(_("公共信用信息平台（信用中心）")),
        by=by,
    )


# --- filing -------------------------------------------------------------------------------------


# every filing asks (compiled once per connection: workflow_app/compiled.py)
_OPEN_ON_RECORD = CompiledQuery(
    lambda subject_id, department_id, external_id: Objection.objects.filter(
        subject_id=subject_id,
        record__department_id=department_id,
        record__external_id=external_id,
        status__in=[s.value for s in OPEN_STATUSES],
    ).order_by("pk")[:1],
    int,
    int,
    str,
)


def objection_submit(
    *,
    applicant: User,
    record_id: int,
    grounds: str,
    description: str,
    commitment_accepted: bool,
    files: Sequence[Any] = (),
) -> Objection:
    """File an objection about a published record of the applicant's own subject."""
    if not applicant.is_authenticated or applicant.role != "applicant" or not applicant.subject_id:
        raise Forbidden(_("只有已关联信用主体的申请人可以提出异议。"))
    errors: list[dict[str, str]] = []
    if grounds not in Grounds.values:
        errors.append(
            {
                "field": "grounds",
                "message": _("请选择异议理由，可选：%(codes)s。")
                % {"codes": ", ".join(Grounds.values)},
            }
        )
    if not (description or "").strip():
        errors.append(
            {"field": "description", "message": _("请填写异议说明：哪里有误、应当如何。")}
        )
    if commitment_accepted is not True:
        errors.append(
            {
                "field": "commitment_accepted",
                "message": _("提出异议须签署异议承诺：承诺所提交材料真实有效。"),
            }
        )
    checked = check_evidence_files(list(files)) if files else []
    # no savepoint of its own inside the filing's transaction: any error ends the whole filing
    with transaction.atomic(savepoint=False):
        record = registry.record_lock_for_filing(record_id)
        if record is None or record.subject_id != applicant.subject_id:
            # Another subject's record is reported like a missing one: no existence leak.
            raise NotFound(_("未找到该信用信息，或它不属于您的企业。请从本企业的信用报告中选择。"))
        if record.status != RecordStatus.PUBLISHED:
            errors.append(
                {
                    "field": "record",
                    "message": _("该信用信息当前状态为“%(status)s”，只能对公示中的信息提出异议。")
                    % {"status": record.get_status_display()},
                }
            )
        snapshot = policy_snapshot()
        if snapshot["params"].get("evidence_required") and not checked:
            errors.append({"field": "evidence", "message": _("请上传至少一份证明材料。")})
        if errors:
            raise ServiceError(
                "; ".join(e["message"] for e in errors), code="invalid", errors=errors
            )
        # one open objection per subject and record, across the record's versions
        existing = _OPEN_ON_RECORD.first(
            record.subject_id, record.department_id, record.external_id
        )
        if existing is not None:
            raise Conflict(
                _(
                    "您已就该信息提出异议（%(ref)s），正在处理中；请勿重复提交，可在原案件中补充材料。"
                )
                % {"ref": existing.reference},
                code="duplicate_open",
            )
        now = timezone.now()
        pk = case_next_id(Objection)
        objection = Objection(
            pk=pk,
            reference=f"YY{timezone.localdate(now):%Y}{pk:07d}",
            subject=record.subject,
            record=record,
            applicant=applicant,
            grounds=grounds,
            description=description.strip(),
            commitment_accepted=True,
            commitment_text=str(
                _("本人/本单位承诺：所提异议及材料真实、合法、有效，如有虚假，愿承担相应法律责任。")
            ),
            policy_snapshot=snapshot,
            policy_version=snapshot.get("version"),
            filed_at=now,
        )
        try:  # another filing on the record won the race: nothing of this one is kept
            save_case(objection, by=applicant, reason="objection submitted", force_insert=True)
        except IntegrityError:
            raise Conflict(
                _("您已就该信息提出异议，正在处理中；请勿重复提交。"), code="duplicate_open"
            )
        evidence_store(model=Evidence, case=objection, files=checked, by=applicant)
        case_deadline_open(
            objection, DL_INTAKE, days_key="objection_intake_days", start_at=now, queue=QUEUE_CENTRE
        )
        audit_case(objection, before="", by=applicant, msg="objection.submitted")
        _notify_applicant(objection, "objection.submitted")
        notify_queue(
            queue=QUEUE_CENTRE,
            event="objection.new_task",
            context=_context(objection),
            case_kind=CASE_KIND,
            case_id=objection.pk,
            url=reverse("queue"),
            channels=("inapp",),
        )
        return objection


# --- centre intake ------------------------------------------------------------------------------


def objection_request_supplement(
    *, objection: Objection, by: User, reason: str, task: str = ""
) -> Objection:
    if not (reason or "").strip():
        raise ServiceError(
            _("请写明需要补正的内容，申请人将据此补充材料。"), code="reason_required"
        )
    with case_transition(
        Objection, objection.pk, "request_supplement", by=by, action=_("要求补正"), related=RELATED
    ) as move:
        obj = move.case
        move.apply(
            history="supplement requested",
            msg="objection.supplement_requested",
            reason=reason,
            task=task,
            reason_text=reason.strip(),
        )
        case_supplement_deadline_open(obj, DL_SUPPLEMENT, closing=([DL_INTAKE], "stopped"))
        _notify_applicant(obj, "objection.needs_supplement", reason=reason)
        return obj


def objection_supplement(
    *, objection: Objection, by: User, text: str, files: Sequence[Any] = ()
) -> Objection:
    """The applicant supplies what was asked for; the intake period counts anew from today."""
    if not (text or "").strip() and not files:
        raise ServiceError(_("请填写补正说明或上传补正材料。"), code="supplement_empty")
    checked = check_evidence_files(list(files)) if files else []
    with case_transition(
        Objection, objection.pk, "supplement", by=by, action=_("补正"), related=RELATED
    ) as move:
        obj = move.case
        move.apply(
            history="supplement given",
            msg="objection.supplemented",
            params={"files": len(checked)},
            reason=text,
            data={"files": [c.name for c in checked]},
            text=(text or "").strip(),
        )
        evidence_store(
            model=Evidence, case=obj, files=checked, by=by, stage=Evidence.Stage.SUPPLEMENT
        )
        case_deadline_open(
            obj,
            DL_INTAKE,
            days_key="objection_intake_days",
            start_at=timezone.now(),
            queue=QUEUE_CENTRE,
            closing=([DL_SUPPLEMENT], "met"),
        )
        _notify_applicant(obj, "objection.supplemented")
        return obj


def objection_add_evidence(*, objection: Objection, by: User, files: Sequence[Any]) -> list[Any]:
    """The owner adds materials to an open objection (no change of state)."""
    return evidence_add_to_open_case(
        model=Objection, evidence=Evidence, case_id=objection.pk, by=by, files=files
    )


def objection_lapse(*, objection: Objection, at: datetime.datetime | None = None) -> Objection:
    """System: the supplement period passed without supplements."""
    at = at or timezone.now()
    with case_transition(
        Objection,
        objection.pk,
        "lapse",
        by=None,
        action=_("因补正逾期不予受理"),
        related=RELATED,
        system=True,
    ) as move:
        obj = move.case
        move.apply(history="supplement period passed", msg="objection.lapsed", at=at)
        case_deadlines_close(obj, [DL_SUPPLEMENT], status="lapsed")
        _issue_decision(
            obj, by=None, decision="not_accepted", summary="objection.decision.lapsed", params={}
        )
        _notify_applicant(obj, "objection.lapsed")
        return obj


def objection_refuse(*, objection: Objection, by: User, reason: str, task: str = "") -> Objection:
    if not (reason or "").strip():
        raise ServiceError(
            _("不予受理须写明理由（如：不属于受理范围、申请人不具备资格、重复申请）。"),
            code="reason_required",
        )
    with case_transition(
        Objection, objection.pk, "refuse", by=by, action=_("不予受理"), related=RELATED
    ) as move:
        obj = move.case
        move.apply(
            history="not accepted",
            msg="objection.refused",
            reason=reason,
            task=task,
            reason_text=reason.strip(),
            at=timezone.now(),
        )
        case_deadlines_close(obj, [DL_INTAKE], status="met")
        doc = _issue_decision(
            obj,
            by=by,
            decision="not_accepted",
            summary="objection.decision.refused",
            params={"reason": reason.strip()},
        )
        _notify_applicant(obj, "objection.not_accepted", reason=reason, code=doc.code)
        return obj


def objection_accept(
    *, objection: Objection, by: User, reason: str = "", task: str = ""
) -> Objection:
    with case_transition(
        Objection, objection.pk, "accept", by=by, action=_("受理"), related=RELATED
    ) as move:
        obj = move.case
        current = registry.record_current_locked(obj.record)
        if current.status != RecordStatus.PUBLISHED:
            raise Conflict(
                _(
                    "该信用信息已不在公示中（当前状态：%(status)s），不能受理；请选择不予受理并说明理由。"
                )
                % {"status": current.get_status_display()},
                code="record_not_published",
            )
        move.apply(history="accepted", msg="objection.accepted", reason=reason, task=task)
        registry.record_set_objection_mark(
            record=current,
            marked=True,
            by=by,
            reason=f"objection {obj.reference} accepted",
            locked=True,
        )
        case_deadline_open(
            obj,
            DL_PLATFORM_CHECK,
            days_key="objection_platform_check_days",
            start_at=timezone.now(),
            queue=QUEUE_CENTRE,
            closing=([DL_INTAKE], "met"),
        )
        _notify_applicant(obj, "objection.accepted")
        return obj


def objection_forward(
    *, objection: Objection, by: User, reason: str = "", task: str = ""
) -> Objection:
    with case_transition(
        Objection, objection.pk, "forward", by=by, action=_("转信源单位核查"), related=RELATED
    ) as move:
        obj = move.case
        dept = obj.record.department
        move.apply(
            history="forwarded",
            msg="objection.forwarded",
            params={"department": dept.code},
            reason=reason,
            task=task,
            data={"department": dept.code},
        )
        queue = department_queue(dept.code)
        case_deadline_open(
            obj,
            DL_VERIFICATION,
            days_key="objection_verification_days",
            start_at=timezone.now(),
            queue=queue,
            closing=([DL_PLATFORM_CHECK], "met"),
        )
        _notify_applicant(obj, "objection.forwarded", department=dept.name)
        notify_queue(
            queue=queue,
            event="objection.forwarded_to_department",
            context=_context(obj, department=dept.name),
            case_kind=CASE_KIND,
            case_id=obj.pk,
            url=reverse("queue"),
        )
        return obj


PLATFORM_OUTCOMES = (Outcome.MODIFIED, Outcome.DELETED)
DEPARTMENT_OUTCOMES = (Outcome.CONFIRMED, Outcome.MODIFIED, Outcome.DELETED, Outcome.UNDETERMINED)


def objection_resolve(
    *,
    objection: Objection,
    by: User,
    outcome: str,
    reason: str = "",
    content: str | None = None,
    task: str = "",
) -> Objection:
    """Resolve: by the centre after its own check (platform error: ``modified``/``deleted``), or by
    the record's source department after verification (any outcome; a reason is required)."""
    with case_transition(
        Objection, objection.pk, "resolve", by=by, action=_("办结"), related=RELATED
    ) as move:
        obj = move.case
        allowed = PLATFORM_OUTCOMES if obj.status == Status.ACCEPTED else DEPARTMENT_OUTCOMES
        if outcome not in [o.value for o in allowed]:
            raise ServiceError(
                _("处理结果无效，此环节可选：%(codes)s。")
                % {"codes": ", ".join(o.value for o in allowed)},
                code="invalid_outcome",
                errors=[{"field": "outcome", "message": _("请选择处理结果。")}],
            )
        if outcome == Outcome.MODIFIED and not (content or "").strip():
            raise ServiceError(
                _("更正信息时请填写更正后的信息内容。"),
                code="content_required",
                errors=[{"field": "content", "message": _("请填写更正后的信息内容。")}],
            )
        if obj.status == Status.FORWARDED and not (reason or "").strip():
            raise ServiceError(
                _("请填写核查意见，申请人将看到这段说明。"),
                code="reason_required",
                errors=[{"field": "reason", "message": _("请填写核查意见。")}],
            )
        record = registry.record_current_locked(obj.record)
        why = f"objection {obj.reference} resolved: {outcome}"
        case_ref = {"kind": CASE_KIND, "id": obj.pk, "reference": obj.reference}
        data: dict[str, Any] = {"outcome": outcome}
        if outcome == Outcome.MODIFIED:
            new = registry.record_new_version(
                record=record,
                changes={"content": content.strip(), "under_objection": False},  # type: ignore[union-attr]
                by=by,
                reason=why,
                case=case_ref,
            )
            obj.result_record = new
            data["new_record_id"] = new.pk
        elif outcome == Outcome.DELETED:
            registry.record_set_objection_mark(
                record=record, marked=False, by=by, reason=why, locked=True
            )
            registry.record_set_status(
                record=record,
                status=RecordStatus.DELETED,
                by=by,
                reason=why,
                case=case_ref,
                locked=True,
            )
        elif outcome == Outcome.UNDETERMINED:
            registry.record_set_objection_mark(
                record=record, marked=False, by=by, reason=why, locked=True
            )
            registry.record_set_note(
                record=record,
                note=_("经信源单位核查，异议（%(ref)s）无法确认：%(reason)s")
                % {"ref": obj.reference, "reason": reason.strip()},
                by=by,
                reason=why,
                locked=True,
            )
        else:  # confirmed
            registry.record_set_objection_mark(
                record=record, marked=False, by=by, reason=why, locked=True
            )
        move.apply(
            history=f"resolved: {outcome}",
            msg="objection.resolved",
            params={"outcome": outcome},
            reason=reason,
            task=task,
            data=data,
            outcome=outcome,
            reason_text=(reason or "").strip(),
            at=timezone.now(),
        )
        case_deadlines_close(obj, [DL_PLATFORM_CHECK, DL_VERIFICATION], status="met")
        params = {"outcome": outcome, "reason": (reason or "").strip()}
        summary = "objection.decision.resolved"
        if outcome == Outcome.MODIFIED:
            summary = "objection.decision.modified"
            params["content"] = (content or "").strip()
        doc = _issue_decision(obj, by=by, decision=outcome, summary=summary, params=params)
        _notify_applicant(obj, "objection.resolved", outcome=outcome, reason=reason, code=doc.code)
        return obj


def objection_withdraw(*, objection: Objection, by: User, reason: str = "") -> Objection:
    with transaction.atomic():
        owner = (
            Objection.objects.filter(pk=objection.pk).values_list("applicant_id", flat=True).first()
        )
        if owner != by.pk:
            raise NotFound(_("未找到该异议申请。"))
        with case_transition(
            Objection, objection.pk, "withdraw", by=by, action=_("撤回"), related=RELATED
        ) as move:
            obj = move.case
            was_marked = move.before in (Status.ACCEPTED, Status.FORWARDED)
            move.apply(
                history="withdrawn", msg="objection.withdrawn", reason=reason, at=timezone.now()
            )
            if was_marked:
                registry.record_set_objection_mark(
                    record=obj.record,
                    marked=False,
                    by=by,
                    reason=f"objection {obj.reference} withdrawn",
                )
            case_deadlines_close(obj, None, status="cancelled")
            _notify_applicant(obj, "objection.withdrawn")
            return obj
