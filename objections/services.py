"""Objection services: one per transition of SPEC §5.

Each service runs in one transaction on the objection row locked with ``select_for_update``,
checks the transition (``can_proceed``) and its permission (``has_transition_perm``), applies it,
saves with a history reason, writes the audit entry, moves deadlines, changes the credit record
(mark, new version, withdrawal) and schedules notifications (outbox rows, delivered after commit).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from notifications.services import notify, notify_queue
from workflow_app.accounts.models import QUEUE_CENTRE, User, department_queue
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.audit.services import audit_append
from workflow_app.registry import services as registry
from workflow_app.registry.models import CreditRecord, RecordStatus
from workflow_app.uploads import check_evidence_files
from workflow_app.workdays.deadlines import deadline_open, deadlines_close_for_case
from workflow_app.workdays.policy import policy_snapshot

from . import notifications as events  # noqa: F401  (registers the event templates)
from .models import OPEN_STATUSES, Evidence, Grounds, Objection, Outcome, Status

CASE_KIND = "objection"

# Deadline kinds (also the step codes of the tasks they belong to).
DL_INTAKE = "objection_intake"
DL_PLATFORM_CHECK = "objection_platform_check"
DL_VERIFICATION = "objection_verification"
DL_SUPPLEMENT = "objection_supplement"

APPLICANT_QUEUE = "applicant"


# --- helpers ------------------------------------------------------------------------------------


def _locked(objection: Objection) -> Objection:
    """Re-read the objection under a row lock; later code works on the fresh copy."""
    try:
        return (
            Objection.objects.select_for_update()
            .select_related("record", "record__department", "applicant", "subject")
            .get(pk=objection.pk)
        )
    except Objection.DoesNotExist:
        raise NotFound(_("异议申请不存在。"))


def _check(objection: Objection, method: Any, user: User | None, action: str) -> None:
    if not can_proceed(method):
        raise Conflict(
            _("异议 %(ref)s 当前状态为“%(status)s”，不能%(action)s；页面可能已过期，请刷新后查看。")
            % {
                "ref": objection.reference,
                "status": objection.get_status_display(),
                "action": action,
            },
            code="wrong_state",
        )
    if user is not None and not has_transition_perm(method, user):
        raise Forbidden(
            _("您没有权限对异议 %(ref)s 执行“%(action)s”。")
            % {"ref": objection.reference, "action": action}
        )


def _save(objection: Objection, by: User | None, reason: str) -> None:
    objection._history_user = by  # type: ignore[attr-defined]
    objection._change_reason = reason  # type: ignore[attr-defined]
    objection.save()


def _audit(
    objection: Objection,
    *,
    from_state: str,
    by: User | None,
    reason: str = "",
    task: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    audit_append(
        case_kind=CASE_KIND,
        case_id=objection.pk,
        from_state=from_state,
        to_state=objection.status,
        actor=by,
        reason=reason,
        task=task,
        data=data or {},
    )


def case_url(objection: Objection) -> str:
    return reverse("objection-detail", args=[objection.pk])


def _context(objection: Objection, **extra: Any) -> dict[str, Any]:
    ctx = {
        "reference": objection.reference,
        "record_title": objection.record.title,
        "subject": objection.subject.name,
        "status": objection.status,
    }
    ctx.update({k: str(v) for k, v in extra.items()})
    return ctx


def _notify_applicant(objection: Objection, event: str, **extra: Any) -> None:
    notify(
        event=event,
        recipients=[objection.applicant],
        context=_context(objection, **extra),
        case_kind=CASE_KIND,
        case_id=objection.pk,
        url=case_url(objection),
    )


def _days(objection: Objection, key: str) -> int:
    return int(objection.policy_snapshot["params"][key])


def _open_deadline(
    objection: Objection,
    kind: str,
    days_key: str,
    *,
    start_at: datetime.datetime,
    queue: str,
    assignee: User | None = None,
) -> None:
    deadline_open(
        case_kind=CASE_KIND,
        case_id=objection.pk,
        case_reference=objection.reference,
        kind=kind,
        start_at=start_at,
        amount=_days(objection, days_key),
        queue=queue,
        assignee=assignee,
        reminder_days=_days(objection, "reminder_days_before"),
    )


def _close_deadlines(objection: Objection, kinds: list[str], status: str = "met") -> None:
    deadlines_close_for_case(case_kind=CASE_KIND, case_id=objection.pk, status=status, kinds=kinds)


def _department_queue(objection: Objection) -> str:
    return department_queue(objection.record.department.code)


def _issue_decision(objection: Objection, *, by: User | None, decision: str, summary: str) -> None:
    issuer = (
        objection.record.department.name
        if objection.status == Status.RESOLVED and by is not None and by.role == "department"
        else _("公共信用信息平台（信用中心）")
    )
    registry.decision_issue(
        case_kind=CASE_KIND,
        case_id=objection.pk,
        case_reference=objection.reference,
        subject=objection.subject,
        record=objection.result_record or objection.record,
        title=_("信用信息异议处理结果"),
        decision=decision,
        summary=summary,
        issued_by=str(issuer),
        by=by,
    )


# --- filing -------------------------------------------------------------------------------------


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
    with transaction.atomic():
        record = (
            CreditRecord.objects.select_for_update()
            .select_related("department", "subject")
            .filter(pk=record_id)
            .first()
        )
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
        existing = Objection.objects.filter(
            subject_id=record.subject_id,
            record__department_id=record.department_id,
            record__external_id=record.external_id,
            status__in=[s.value for s in OPEN_STATUSES],
        ).first()
        if existing is not None:
            raise Conflict(
                _(
                    "您已就该信息提出异议（%(ref)s），正在处理中；请勿重复提交，可在原案件中补充材料。"
                )
                % {"ref": existing.reference},
                code="duplicate_open",
            )
        now = timezone.now()
        objection = Objection(
            reference=f"TMP-{now.timestamp()}-{applicant.pk}",
            subject_id=record.subject_id,
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
        try:
            with transaction.atomic():
                _save(objection, applicant, "objection submitted")
        except IntegrityError:
            raise Conflict(
                _("您已就该信息提出异议，正在处理中；请勿重复提交。"), code="duplicate_open"
            )
        objection.reference = f"YY{timezone.localdate(now):%Y}{objection.pk:07d}"
        objection.save(update_fields=["reference"])
        _store_evidence(objection, checked, by=applicant, stage=Evidence.Stage.FILING)
        _open_deadline(
            objection, DL_INTAKE, "objection_intake_days", start_at=now, queue=QUEUE_CENTRE
        )
        _audit(objection, from_state="", by=applicant, reason=_("提交异议申请"))
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


def _store_evidence(objection: Objection, checked: list[Any], *, by: User, stage: str) -> None:
    for item in checked:
        evidence = Evidence(
            objection=objection,
            original_name=item.name[:255],
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            stage=stage,
            uploaded_by=by,
        )
        evidence.file.save(item.name, item.upload, save=False)
        evidence._history_user = by  # type: ignore[attr-defined]
        evidence.save()


# --- centre intake ------------------------------------------------------------------------------


def objection_request_supplement(
    *, objection: Objection, by: User, reason: str, task: str = ""
) -> Objection:
    if not (reason or "").strip():
        raise ServiceError(
            _("请写明需要补正的内容，申请人将据此补充材料。"), code="reason_required"
        )
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.request_supplement, by, _("要求补正"))
        before = obj.status
        obj.request_supplement(reason=reason.strip())
        _save(obj, by, "supplement requested")
        _close_deadlines(obj, [DL_INTAKE], status="stopped")
        _open_deadline(
            obj,
            DL_SUPPLEMENT,
            "supplement_days",
            start_at=timezone.now(),
            queue=APPLICANT_QUEUE,
            assignee=obj.applicant,
        )
        _audit(obj, from_state=before, by=by, reason=reason, task=task)
        _notify_applicant(obj, "objection.needs_supplement", reason=reason)
        return obj


def objection_supplement(
    *, objection: Objection, by: User, text: str, files: Sequence[Any] = ()
) -> Objection:
    """The applicant supplies what was asked for; the intake period counts anew from today."""
    if not (text or "").strip() and not files:
        raise ServiceError(_("请填写补正说明或上传补正材料。"), code="supplement_empty")
    checked = check_evidence_files(list(files)) if files else []
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.supplement, by, _("补正"))
        before = obj.status
        obj.supplement(text=(text or "").strip())
        _save(obj, by, "supplement given")
        _store_evidence(obj, checked, by=by, stage=Evidence.Stage.SUPPLEMENT)
        _close_deadlines(obj, [DL_SUPPLEMENT], status="met")
        _open_deadline(
            obj, DL_INTAKE, "objection_intake_days", start_at=timezone.now(), queue=QUEUE_CENTRE
        )
        _audit(
            obj,
            from_state=before,
            by=by,
            reason=text or _("提交补正材料"),
            data={"files": [c.name for c in checked]},
        )
        _notify_applicant(obj, "objection.supplemented")
        return obj


def objection_lapse(*, objection: Objection, at: datetime.datetime | None = None) -> Objection:
    """System: the supplement period passed without supplements."""
    at = at or timezone.now()
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.lapse, None, _("因补正逾期不予受理"))
        before = obj.status
        obj.lapse(at=at)
        _save(obj, None, "supplement period passed")
        _close_deadlines(obj, [DL_SUPPLEMENT], status="lapsed")
        _audit(obj, from_state=before, by=None, reason=obj.decision_reason)
        _issue_decision(
            obj,
            by=None,
            decision="not_accepted",
            summary=_("申请人未在补正期限内补正，异议不予受理。"),
        )
        _notify_applicant(obj, "objection.not_accepted", reason=obj.decision_reason)
        return obj


def objection_refuse(*, objection: Objection, by: User, reason: str, task: str = "") -> Objection:
    if not (reason or "").strip():
        raise ServiceError(
            _("不予受理须写明理由（如：不属于受理范围、申请人不具备资格、重复申请）。"),
            code="reason_required",
        )
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.refuse, by, _("不予受理"))
        before = obj.status
        obj.refuse(reason=reason.strip(), at=timezone.now())
        _save(obj, by, "not accepted")
        _close_deadlines(obj, [DL_INTAKE], status="met")
        _audit(obj, from_state=before, by=by, reason=reason, task=task)
        _issue_decision(
            obj,
            by=by,
            decision="not_accepted",
            summary=_("异议不予受理。理由：%(reason)s") % {"reason": reason.strip()},
        )
        _notify_applicant(obj, "objection.not_accepted", reason=reason)
        return obj


def objection_accept(
    *, objection: Objection, by: User, reason: str = "", task: str = ""
) -> Objection:
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.accept, by, _("受理"))
        current = registry.record_current_locked(obj.record)
        if current.status != RecordStatus.PUBLISHED:
            raise Conflict(
                _(
                    "该信用信息已不在公示中（当前状态：%(status)s），不能受理；请选择不予受理并说明理由。"
                )
                % {"status": current.get_status_display()},
                code="record_not_published",
            )
        before = obj.status
        obj.accept()
        _save(obj, by, "accepted")
        registry.record_set_objection_mark(
            record=current, marked=True, by=by, reason=f"objection {obj.reference} accepted"
        )
        _close_deadlines(obj, [DL_INTAKE], status="met")
        _open_deadline(
            obj,
            DL_PLATFORM_CHECK,
            "objection_platform_check_days",
            start_at=timezone.now(),
            queue=QUEUE_CENTRE,
        )
        _audit(
            obj,
            from_state=before,
            by=by,
            reason=reason or _("受理异议，信息加注异议标注"),
            task=task,
        )
        _notify_applicant(obj, "objection.accepted")
        return obj


def objection_forward(
    *, objection: Objection, by: User, reason: str = "", task: str = ""
) -> Objection:
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.forward, by, _("转信源单位核查"))
        before = obj.status
        obj.forward()
        _save(obj, by, "forwarded")
        _close_deadlines(obj, [DL_PLATFORM_CHECK], status="met")
        queue = _department_queue(obj)
        _open_deadline(
            obj,
            DL_VERIFICATION,
            "objection_verification_days",
            start_at=timezone.now(),
            queue=queue,
        )
        _audit(
            obj,
            from_state=before,
            by=by,
            reason=reason or _("转 %(dept)s 核查") % {"dept": obj.record.department.name},
            task=task,
            data={"department": obj.record.department.code},
        )
        _notify_applicant(obj, "objection.forwarded", department=obj.record.department.name)
        notify_queue(
            queue=queue,
            event="objection.forwarded_to_department",
            context=_context(obj, department=obj.record.department.name),
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
    the record's source department after verification (any outcome)."""
    with transaction.atomic():
        obj = _locked(objection)
        _check(obj, obj.resolve, by, _("办结"))
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
        if (
            outcome in (Outcome.CONFIRMED, Outcome.UNDETERMINED, Outcome.DELETED)
            and not (reason or "").strip()
            and obj.status == Status.FORWARDED
        ):
            raise ServiceError(
                _("请填写核查意见，申请人将看到这段说明。"),
                code="reason_required",
                errors=[{"field": "reason", "message": _("请填写核查意见。")}],
            )
        before = obj.status
        record = registry.record_current_locked(obj.record)
        why = f"objection {obj.reference} resolved: {outcome}"
        data: dict[str, Any] = {"outcome": outcome}
        if outcome == Outcome.MODIFIED:
            new = registry.record_new_version(
                record=record,
                changes={"content": content.strip(), "under_objection": False},  # type: ignore[union-attr]
                by=by,
                reason=why,
            )
            obj.result_record = new
            data["new_record_id"] = new.pk
        elif outcome == Outcome.DELETED:
            registry.record_set_objection_mark(record=record, marked=False, by=by, reason=why)
            registry.record_set_status(
                record=record, status=RecordStatus.DELETED, by=by, reason=why
            )
        elif outcome == Outcome.UNDETERMINED:
            registry.record_set_objection_mark(record=record, marked=False, by=by, reason=why)
            registry.record_set_note(
                record=record,
                note=_("经信源单位核查，异议（%(ref)s）无法确认：%(reason)s")
                % {"ref": obj.reference, "reason": reason.strip()},
                by=by,
                reason=why,
            )
        else:  # confirmed
            registry.record_set_objection_mark(record=record, marked=False, by=by, reason=why)
        obj.resolve(outcome=outcome, reason=(reason or "").strip(), at=timezone.now())
        _save(obj, by, f"resolved: {outcome}")
        _close_deadlines(obj, [DL_PLATFORM_CHECK, DL_VERIFICATION], status="met")
        _audit(
            obj,
            from_state=before,
            by=by,
            reason=reason or str(Outcome(outcome).label),
            task=task,
            data=data,
        )
        summary = _("处理结果：%(outcome)s。%(reason)s") % {
            "outcome": Outcome(outcome).label,
            "reason": (reason or "").strip(),
        }
        if outcome == Outcome.MODIFIED:
            summary += " " + _("更正后的内容：%(content)s") % {"content": content.strip()}  # type: ignore[union-attr]
        _issue_decision(obj, by=by, decision=outcome, summary=summary)
        _notify_applicant(obj, "objection.resolved", outcome=Outcome(outcome).label, reason=reason)
        return obj


def objection_withdraw(*, objection: Objection, by: User, reason: str = "") -> Objection:
    with transaction.atomic():
        obj = _locked(objection)
        if obj.applicant_id != by.pk:
            raise NotFound(_("未找到该异议申请。"))
        _check(obj, obj.withdraw, by, _("撤回"))
        before = obj.status
        obj.withdraw(at=timezone.now())
        _save(obj, by, "withdrawn")
        if before in (Status.ACCEPTED, Status.FORWARDED):
            registry.record_set_objection_mark(
                record=obj.record,
                marked=False,
                by=by,
                reason=f"objection {obj.reference} withdrawn",
            )
        deadlines_close_for_case(case_kind=CASE_KIND, case_id=obj.pk, status="cancelled")
        _audit(obj, from_state=before, by=by, reason=reason or str(_("申请人撤回异议")))
        _notify_applicant(obj, "objection.withdrawn")
        return obj
