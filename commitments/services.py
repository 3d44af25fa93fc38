"""Commitment services: one per transition of SPEC §7, plus signing, fulfilment evidence, the
random-check draw and the credit check made before approvals.

Each transition runs through the kernel's ``case_transition`` (one transaction on the locked
commitment row, transition and permission checked, history reason, audit entry as a code) and
adds the commitment's own effects: deadlines from its policy snapshot, the matter's status, the
breach record, the linked repair's revocation, notifications. ``commitments`` calls ``repair``
(revoke on a confirmed breach), never the reverse.
"""

from __future__ import annotations

import datetime
import random
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import case_context, notify_case, notify_queue
from repair.models import Repair
from repair.models import Status as RepairStatus
from repair.services import repair_revoke
from workflow_app.accounts.models import QUEUE_SUPERVISORS, Role, User, department_queue
from workflow_app.api import Forbidden, NotFound, ServiceError
from workflow_app.cases.evidence import evidence_store
from workflow_app.cases.transitions import (
    audit_case,
    case_deadline_open,
    case_deadlines_close,
    case_next_id,
    case_policy_value,
    case_transition,
    save_case,
)
from workflow_app.compiled import CompiledQuery
from workflow_app.registry import services as registry
from workflow_app.registry.models import Department, RecordStatus, Subject
from workflow_app.uploads import check_evidence_files
from workflow_app.workdays.calendar import months_later
from workflow_app.workdays.policy import current_policy, policy_snapshot

from . import messages  # noqa: F401  (registers the message codes)
from . import notifications as events  # noqa: F401  (registers the event templates)
from .models import (
    Commitment,
    CreditCheck,
    Evidence,
    Finding,
    Kind,
    MatterStatus,
    Publicity,
    RandomCheck,
    Status,
)
from .selectors import random_check_population, unrepaired_breaches

CASE_KIND = Commitment.CASE_KIND
DL_VERIFICATION = "commitment_verification"
DL_REVIEW = "breach_review"
RELATED = ("subject", "department", "signer", "repair")

SIGNABLE_KINDS = (Kind.NOTIFICATION, Kind.DEFICIENCY, Kind.VOLUNTARY)
EXCLUDABLE_KINDS = (Kind.NOTIFICATION, Kind.DEFICIENCY)

TEMPLATES: dict[str, Any] = {
    Kind.NOTIFICATION: gettext_lazy(
        "本单位/本人已知晓告知的全部审批条件、标准和要求，承诺所提交材料真实有效，"
        "现已具备（或将在规定期限内具备）相应条件；愿意接受行政机关的核查。"
    ),
    Kind.DEFICIENCY: gettext_lazy(
        "本单位/本人承诺在约定期限内补齐申请材料中欠缺的次要材料，所提交材料真实有效；"
        "逾期未补齐的，同意终止办理并承担相应责任。"
    ),
    Kind.VOLUNTARY: gettext_lazy(
        "本单位/本人自愿承诺：依法诚信经营，遵守行业规范，自觉接受政府、行业组织、社会公众、"
        "新闻舆论的监督。"
    ),
}
LIABILITY: dict[str, Any] = {
    Kind.NOTIFICATION: gettext_lazy(
        "经核查与承诺不符的，撤销已作出的行政许可/审批决定，违诺信息记入信用记录并依法公示，"
        "此后不再适用告知承诺制办理。"
    ),
    Kind.DEFICIENCY: gettext_lazy(
        "逾期未补齐材料的，终止办理；虚假承诺的，违诺信息记入信用记录并依法公示。"
    ),
    Kind.VOLUNTARY: gettext_lazy("违背承诺的，违诺信息记入信用记录，接受相应的信用约束。"),
    Kind.REPAIR: gettext_lazy(
        "违背本承诺或所提交材料虚假的，撤销信用修复决定，相关失信信息恢复公示，"
        "并依法依规实施失信惩戒。"
    ),
}


def text_template(kind: str) -> str:
    return str(TEMPLATES.get(kind, ""))


def liability_text(kind: str) -> str:
    return str(LIABILITY.get(kind, ""))


def _reference(pk: int, now: Any) -> str:
    """Area code (6) + date (8) + serial (6), after the commitment data template."""
    return f"{settings.CREDIT_AREA_CODE}{timezone.localdate(now):%Y%m%d}{pk % 1_000_000:06d}"


def case_url(c: Commitment) -> str:
    return reverse("commitment-detail", args=[c.pk])


def _context(c: Commitment, **extra: Any) -> dict[str, Any]:
    return case_context(c, **extra)


def _notify_signer(c: Commitment, event: str, **extra: Any) -> None:
    notify_case(c, event, recipients=[c.signer], **extra)


def _notify_department(c: Commitment, event: str, **extra: Any) -> None:
    if c.department_id is None:
        return
    queue = department_queue(c.department.code)  # type: ignore[union-attr]
    notify_case(c, event, queue=queue, channels=("inapp", "email"), **extra)


def commitment_exclusion(subject: Subject) -> str | None:
    """Why the subject may not sign ``notification``/``deficiency`` commitments, or ``None``:
    on the black list, or a confirmed breach whose record is not repaired (SPEC §7, 宝安:
    the black list restricts approvals)."""
    if subject.black_list:
        return str(
            _("该主体已被列入失信黑名单，不适用告知承诺制和容缺受理，请按一般程序提交全部材料。")
        )
    breaches = unrepaired_breaches(subject)
    if breaches:
        b = breaches[0]
        return str(
            _(
                "该主体有违背信用承诺的记录（承诺 %(ref)s，失信信息“%(title)s”）尚未修复，"
                "修复前不适用告知承诺制和容缺受理。"
            )
            % {"ref": b.reference, "title": b.breach_record.title if b.breach_record else ""}
        )
    return None


# --- signing ------------------------------------------------------------------------------------


# a signing's department, compiled once (workflow_app/compiled.py)
_DEPARTMENT = CompiledQuery(lambda code: Department.objects.filter(code=code)[:1], str)


def commitment_sign(
    *,
    applicant: User,
    kind: str,
    department: str | None,
    matter_reference: str,
    matter_title: str,
    text: str,
    publicity: str,
    due_date: datetime.date | None,
    commitment_accepted: bool,
    files: Sequence[Any] = (),
) -> Commitment:
    """An applicant signs a commitment letter for a matter. Refusals store nothing."""
    if (
        not applicant.is_authenticated
        or applicant.role != Role.APPLICANT
        or not applicant.subject_id
    ):
        raise Forbidden(_("只有已关联信用主体的申请人可以签署信用承诺。"))
    errors: list[dict[str, str]] = []
    if kind == Kind.REPAIR:
        raise ServiceError(
            _("信用修复承诺随信用修复申请签署，获准修复时自动生效，不能在此单独签署。"),
            code="invalid_kind",
            errors=[{"field": "kind", "message": _("请选择告知承诺、容缺受理承诺或主动承诺。")}],
        )
    if kind not in SIGNABLE_KINDS:
        errors.append(
            {
                "field": "kind",
                "message": _("承诺类型无效，可选：%(codes)s。")
                % {"codes": ", ".join(str(k) for k in SIGNABLE_KINDS)},
            }
        )
    dept = _DEPARTMENT.first(department) if department else None
    if kind in EXCLUDABLE_KINDS and dept is None:
        errors.append(
            {"field": "department", "message": _("请选择受理该事项的部门（department 代码）。")}
        )
    elif department and dept is None:
        errors.append(
            {"field": "department", "message": _("部门代码不存在：%(c)s。") % {"c": department}}
        )
    if kind in EXCLUDABLE_KINDS and not (matter_reference or "").strip():
        errors.append({"field": "matter_reference", "message": _("请填写审批事项的受理编号。")})
    if not (matter_title or "").strip():
        errors.append({"field": "matter_title", "message": _("请填写承诺所属事项的名称。")})
    if not (text or "").strip():
        errors.append({"field": "text", "message": _("请填写承诺内容（可使用模板）。")})
    if publicity not in Publicity.values:
        errors.append(
            {
                "field": "publicity",
                "message": _("公开范围只能是：%(codes)s。")
                % {"codes": ", ".join(Publicity.values)},
            }
        )
    today = timezone.localdate()
    if kind == Kind.DEFICIENCY and due_date is None:
        errors.append(
            {"field": "due_date", "message": _("容缺受理承诺须约定补齐材料的期限（due_date）。")}
        )
    if due_date is not None and due_date <= today:
        errors.append({"field": "due_date", "message": _("履约期限应晚于今天。")})
    if commitment_accepted is not True:
        errors.append(
            {"field": "commitment_accepted", "message": _("请确认已阅读承诺内容和违诺责任并签署。")}
        )
    if errors:
        raise ServiceError("; ".join(e["message"] for e in errors), code="invalid", errors=errors)
    checked = check_evidence_files(list(files)) if files else []
    # no savepoint of its own inside the signing's transaction: any error ends the whole signing
    with transaction.atomic(savepoint=False):
        # locked against a list change while it is checked; one subject's signings side by side
        subject = registry.subject_lock_shared(applicant.subject_id)
        if kind in EXCLUDABLE_KINDS:
            reason = commitment_exclusion(subject)
            if reason:
                raise ServiceError(reason, code="excluded", status_code=400)
        now = timezone.now()
        snapshot = policy_snapshot()
        pk = case_next_id(Commitment)
        c = Commitment(
            pk=pk,
            reference=_reference(pk, now),
            subject=subject,
            signer=applicant,
            kind=kind,
            status=Status.ACTIVE,
            department=dept,
            matter_reference=(matter_reference or "").strip()[:60],
            matter_title=matter_title.strip()[:200],
            matter_status=MatterStatus.GRANTED if kind in EXCLUDABLE_KINDS else "",
            text=text.strip(),
            liability=liability_text(kind),
            publicity=publicity,
            due_date=due_date,
            signed_at=now,
            policy_snapshot=snapshot,
        )
        save_case(c, by=applicant, reason="commitment signed", force_insert=True)
        evidence_store(model=Evidence, case=c, files=checked, by=applicant)
        audit_case(c, before="", by=applicant, msg="commitment.signed", params={"kind": kind})
        if kind == Kind.NOTIFICATION:
            _open_verification(
                c, months=int(snapshot["params"]["notification_verification_months"])
            )
        elif kind == Kind.DEFICIENCY:
            _open_verification(c, until=due_date)
        _notify_signer(c, "commitment.signed")
        return c


def _open_verification(
    c: Commitment, *, months: int | None = None, until: datetime.date | None = None
) -> None:
    """Open the department's verification deadline: ``months`` calendar months from now
    (民法典 arithmetic), until a date, or the random-check period in working days."""
    now = timezone.now()
    queue = department_queue(c.department.code)  # type: ignore[union-attr]
    if until is not None:
        _open_until(c, until, queue)
        return
    if months is not None:
        case_deadline_open(
            c,
            DL_VERIFICATION,
            days_key="notification_verification_months",
            start_at=now,
            queue=queue,
            unit="months",
        )
        return
    case_deadline_open(
        c, DL_VERIFICATION, days_key="random_check_verification_days", start_at=now, queue=queue
    )


def _open_until(c: Commitment, until: datetime.date, queue: str) -> None:
    """A deadline that ends with the agreed day (the deficiency commitment's due date)."""
    from workflow_app.workdays.deadlines import deadline_open

    now = timezone.now()
    deadline_open(
        case_kind=CASE_KIND,
        case_id=c.pk,
        case_reference=c.reference,
        kind=DL_VERIFICATION,
        start_at=now,
        amount=max((until - timezone.localdate(now)).days, 0),
        unit="days",
        queue=queue,
        reminder_days=int(case_policy_value(c, "reminder_days_before")),
        department_id=c.department_id,
    )


def commitment_submit_fulfilment(
    *, commitment: Commitment, by: User, note: str, files: Sequence[Any] = ()
) -> Commitment:
    """The signer supplies fulfilment evidence (files + note); the department is notified."""
    if not (note or "").strip() and not files:
        raise ServiceError(_("请填写履约说明或上传履约材料。"), code="fulfilment_empty")
    checked = check_evidence_files(list(files)) if files else []
    with transaction.atomic():
        c = (
            Commitment.objects.select_for_update(of=("self",))
            .select_related(*RELATED)
            .get(pk=commitment.pk)
        )
        if c.signer_id != by.pk and c.subject_id != getattr(by, "subject_id", None):
            # callers have checked that ``by`` may see the commitment
            raise Forbidden(_("只有作出承诺的主体可以提交履约材料。"))
        if c.status != Status.ACTIVE:
            raise ServiceError(
                _("承诺 %(ref)s 当前状态为“%(status)s”，不能再提交履约材料。")
                % {"ref": c.reference, "status": c.get_status_display()},
                code="wrong_state",
                status_code=409,
            )
        c.fulfilment_note = (note or "").strip()
        c.fulfilment_at = timezone.now()
        save_case(c, by=by, reason="fulfilment evidence")
        evidence_store(
            model=Evidence, case=c, files=checked, by=by, stage=Evidence.Stage.FULFILMENT
        )
        audit_case(
            c,
            before=c.status,
            by=by,
            msg="commitment.fulfilment_submitted",
            params={"files": len(checked)},
            reason=note,
            event="note",
            data={"files": [x.name for x in checked]},
        )
        _notify_department(c, "commitment.fulfilment_submitted")
        return c


# --- verification (department) ------------------------------------------------------------------


def commitment_open_verification(
    *, commitment: Commitment, by: User | None, check_id: int
) -> Commitment:
    """A random check drew this commitment: a verification deadline opens in its department."""
    with transaction.atomic():
        c = (
            Commitment.objects.select_for_update(of=("self",))
            .select_related(*RELATED)
            .get(pk=commitment.pk)
        )
        _open_verification(c)
        audit_case(
            c,
            before=c.status,
            by=by,
            msg="commitment.drawn",
            params={"check": check_id},
            event="note",
            data={"random_check": check_id},
        )
        return c


def commitment_fulfil(
    *, commitment: Commitment, by: User, reason: str = "", task: str = ""
) -> Commitment:
    with case_transition(
        Commitment, commitment.pk, "fulfil", by=by, action=_("确认已履约"), related=RELATED
    ) as move:
        c = move.case
        move.apply(
            history="fulfilled",
            msg="commitment.fulfilled",
            reason=reason,
            task=task,
            by=by,
            at=timezone.now(),
        )
        case_deadlines_close(c, None, status="met")
        _notify_signer(c, "commitment.fulfilled")
        return c


def _open_review(c: Commitment) -> None:
    case_deadline_open(
        c,
        DL_REVIEW,
        days_key="breach_review_days",
        start_at=timezone.now(),
        queue=QUEUE_SUPERVISORS,
        closing=([DL_VERIFICATION], "met"),
    )
    notify_queue(
        queue=QUEUE_SUPERVISORS,
        event="commitment.breach_review",
        context=_context(c, reason=c.breach_reason),
        case_kind=CASE_KIND,
        case_id=c.pk,
        url=reverse("queue"),
        channels=("inapp", "email"),
    )


def commitment_suspect_breach(
    *,
    commitment: Commitment,
    by: User,
    reason: str,
    finding: str = Finding.NOT,
    unmet: str = "",
    task: str = "",
) -> Commitment:
    if not (reason or "").strip():
        raise ServiceError(
            _("请写明核查发现的违诺情形，主管将据此审查。"),
            code="reason_required",
            errors=[{"field": "reason", "message": _("请填写违诺情形。")}],
        )
    if finding not in (Finding.PARTLY, Finding.NOT):
        finding = Finding.NOT
    with case_transition(
        Commitment,
        commitment.pk,
        "suspect_breach",
        by=by,
        action=_("认定疑似违诺"),
        related=RELATED,
    ) as move:
        c = move.case
        move.apply(
            history="breach suspected",
            msg="commitment.breach_suspected",
            params={"finding": finding},
            reason=reason,
            task=task,
            by=by,
            at=timezone.now(),
            reason_text=reason.strip(),
            finding=finding,
            unmet=(unmet or "").strip(),
        )
        _open_review(c)
        _notify_signer(c, "commitment.breach_suspected", reason=reason)
        return c


def commitment_due_date_passed(
    *, commitment: Commitment, at: datetime.datetime | None = None
) -> Commitment:
    """System: a commitment's due date passed with no fulfilment → suspected breach, reviewed by
    the supervisors."""
    at = at or timezone.now()
    with case_transition(
        Commitment,
        commitment.pk,
        "due_date_passed",
        by=None,
        action=_("逾期未履约"),
        related=RELATED,
        system=True,
    ) as move:
        c = move.case
        move.apply(
            history="due date passed",
            msg="commitment.due_date_passed",
            params={"due": c.due_date.isoformat() if c.due_date else ""},
            at=at,
            reason_text=str(_("履约期限 %(due)s 届满，未确认履约。") % {"due": c.due_date}),
        )
        _open_review(c)
        _notify_signer(c, "commitment.breach_suspected", reason=c.breach_reason)
        return c


def commitment_lapse(*, commitment: Commitment, at: datetime.datetime | None = None) -> Commitment:
    """System: a ``deficiency`` commitment's due date passed without the missing materials; the
    matter it belongs to is terminated."""
    at = at or timezone.now()
    with case_transition(
        Commitment,
        commitment.pk,
        "lapse",
        by=None,
        action=_("逾期失效"),
        related=RELATED,
        system=True,
    ) as move:
        c = move.case
        move.apply(
            history="lapsed",
            msg="commitment.lapsed",
            params={"due": c.due_date.isoformat() if c.due_date else ""},
            at=at,
        )
        case_deadlines_close(c, None, status="lapsed")
        _notify_signer(c, "commitment.lapsed")
        _notify_department(c, "commitment.lapsed")
        return c


# --- breach review (supervisor) -----------------------------------------------------------------


def _need_reason(reason: str, message: str) -> str:
    if not (reason or "").strip():
        raise ServiceError(
            message, code="reason_required", errors=[{"field": "reason", "message": message}]
        )
    return reason.strip()


def commitment_dismiss(
    *, commitment: Commitment, by: User, reason: str, task: str = ""
) -> Commitment:
    reason = _need_reason(reason, _("驳回违诺认定须写明理由。"))
    with case_transition(
        Commitment, commitment.pk, "dismiss", by=by, action=_("驳回违诺认定"), related=RELATED
    ) as move:
        c = move.case
        move.apply(
            history="breach dismissed",
            msg="commitment.dismissed",
            reason=reason,
            task=task,
            reason_text=reason,
            at=timezone.now(),
        )
        case_deadlines_close(c, [DL_REVIEW], status="met")
        _notify_signer(c, "commitment.dismissed", reason=reason)
        _notify_department(c, "commitment.dismissed", reason=reason)
        return c


def commitment_confirm_breach(
    *, commitment: Commitment, by: User, reason: str, task: str = ""
) -> Commitment:
    """Confirm the breach, in one transaction: a dishonesty record (违背信用承诺) published on the
    subject's report; by kind, the approval revoked (notification), the matter terminated
    (deficiency) or the linked repair revoked (repair); a breach decision document; the subject
    excluded from commitment-based approvals until that record is repaired."""
    reason = _need_reason(reason, _("确认违诺须写明认定理由。"))
    with case_transition(
        Commitment, commitment.pk, "confirm_breach", by=by, action=_("确认违诺"), related=RELATED
    ) as move:
        c = move.case
        params = c.policy_snapshot.get("params") or current_policy()[1]
        severity = params.get("breach_record_severity", "general")
        today = timezone.localdate()
        department = c.department or (c.repair.record.department if c.repair else None)
        if department is None:
            raise ServiceError(
                _("该承诺没有所属部门，无法生成违诺失信信息；请先补充事项所属部门。"),
                code="no_department",
            )
        record = registry.record_create(
            subject=c.subject,
            department=department,
            external_id=f"CN-{c.reference}",
            category="supervision",
            nature="dishonesty",
            severity=severity,
            title=str(_("违背信用承诺：%(matter)s") % {"matter": c.matter_title or c.reference}),
            content=str(
                _("承诺编号 %(ref)s（%(kind)s）。违诺情形：%(breach)s。认定意见：%(reason)s")
                % {
                    "ref": c.reference,
                    "kind": c.get_kind_display(),
                    "breach": c.breach_reason,
                    "reason": reason,
                }
            ),
            decision_date=today,
            publicity_end=months_later(today, int(params.get("breach_publicity_months", 12))),
            by=by,
            reason=f"commitment {c.reference} breach confirmed",
            case={"kind": CASE_KIND, "id": c.pk, "reference": c.reference},
        )
        c.breach_record = record
        if c.kind == Kind.NOTIFICATION:
            c.matter_status = MatterStatus.REVOKED
        elif c.kind == Kind.DEFICIENCY:
            c.matter_status = MatterStatus.TERMINATED
        move.apply(
            history="breach confirmed",
            msg="commitment.breach_confirmed",
            params={"kind": c.kind},
            reason=reason,
            task=task,
            data={"record_id": record.pk},
            reason_text=reason,
            at=timezone.now(),
        )
        case_deadlines_close(c, None, status="met")
        if c.kind == Kind.REPAIR and c.repair_id:
            repair = Repair.objects.get(pk=c.repair_id)
            if repair.status == RepairStatus.APPROVED:
                repair_revoke(
                    repair=repair,
                    by=by,
                    reason=str(
                        _("违背信用修复承诺（承诺 %(ref)s）：%(reason)s")
                        % {"ref": c.reference, "reason": reason}
                    ),
                )
        registry.decision_issue(
            case_kind=CASE_KIND,
            case_id=c.pk,
            case_reference=c.reference,
            subject=c.subject,
            record=record,
            title=str(_("违背信用承诺认定书")),
            decision="breach_confirmed",
            summary_code="commitment.decision.breach_confirmed",
            summary_params={"kind": c.kind, "matter": c.matter_title, "reason": reason},
            issued_by=str(_("公共信用信息平台（信用中心）")),
            by=by,
        )
        _notify_signer(c, "commitment.breach_confirmed", reason=reason)
        _notify_department(c, "commitment.breach_confirmed", reason=reason)
        return c


# --- repair commitments -------------------------------------------------------------------------


# an approval's read, compiled once (workflow_app/compiled.py)
_REPAIR_COMMITMENT = CompiledQuery(
    lambda repair_id: Commitment.objects.filter(repair_id=repair_id).order_by("pk")[:1], int
)


def commitment_create_for_repair(*, repair: Any, by: Any) -> Commitment:
    """The repair commitment the applicant signed when filing becomes active on approval (inside
    the approval's transaction, without a savepoint of its own: any error ends the approval)."""
    with transaction.atomic(savepoint=False):
        existing = _REPAIR_COMMITMENT.first(repair.pk)
        if existing is not None:
            return existing
        now = timezone.now()
        pk = case_next_id(Commitment)
        commitment = Commitment(
            pk=pk,
            reference=_reference(pk, now),
            subject_id=repair.subject_id,
            signer_id=repair.applicant_id,
            kind=Kind.REPAIR,
            status=Status.ACTIVE,
            department_id=repair.record.department_id,
            matter_reference=repair.reference,
            matter_title=repair.record.title[:200],
            text=repair.commitment_text,
            liability=liability_text(Kind.REPAIR),
            publicity=Publicity.RESTRICTED,
            repair=repair,
            signed_at=repair.filed_at,
            policy_snapshot=repair.policy_snapshot,
        )
        save_case(
            commitment, by=by, reason=f"repair {repair.reference} approved", force_insert=True
        )
        audit_case(
            commitment,
            before="",
            by=by,
            msg="commitment.repair_activated",
            params={"repair": repair.reference},
        )
        return commitment


# --- random checks (双随机) ---------------------------------------------------------------------


def _ratio(params: dict[str, Any], grade: str, red: bool) -> float:
    ratio = float(params["random_check_ratio"].get(grade or "B", 0.2))
    if red:
        ratio *= float(params.get("red_list_check_factor", 0.5))
    return min(max(ratio, 0.0), 1.0)


def draw(
    population: list[list[Any]],
    params: dict[str, Any],
    seed: int,
    caseworkers: dict[str, list[str]],
) -> tuple[list[int], dict[str, str]]:
    """The draw itself, a pure function of its inputs (so a stored draw can be replayed):
    per stratum (grade, red list) ``round(n × ratio)`` commitments, then one caseworker of the
    commitment's department each. ``population`` rows are ``[id, grade, red_list, dept_code]``
    sorted by id; ``caseworkers`` maps a department code to its usernames, sorted."""
    rng = random.Random(seed)
    strata: dict[tuple[str, bool], list[list[Any]]] = {}
    for row in population:
        strata.setdefault((row[1], bool(row[2])), []).append(row)
    drawn: list[int] = []
    for key in sorted(strata, key=lambda k: (k[0], k[1])):
        rows = strata[key]
        k = min(len(rows), round(len(rows) * _ratio(params, key[0], key[1])))
        drawn.extend(row[0] for row in rng.sample(rows, k))
    drawn.sort()
    by_id = {row[0]: row for row in population}
    assignees: dict[str, str] = {}
    for cid in drawn:
        people = caseworkers.get(by_id[cid][3]) or []
        if people:
            assignees[str(cid)] = rng.choice(people)
    return drawn, assignees


def _caseworkers(codes: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for username, code in (
        User.objects.filter(role=Role.DEPARTMENT, is_active=True, department__code__in=codes)
        .order_by("username")
        .values_list("username", "department__code")
    ):
        out.setdefault(code, []).append(username)
    return out


def random_check_draw(
    *, by: User | None, department: Department | None = None, seed: int | None = None
) -> RandomCheck:
    """Draw active commitments for verification at the grade-linked ratio and store the draw.
    The processes layer then opens a verification task for each drawn one."""
    if by is not None and getattr(by, "role", None) not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(_("只有主管可以发起双随机抽查。"))
    version, params = current_policy()
    seed = int(seed) if seed is not None else secrets.randbelow(2**62)
    population = random_check_population(department)
    workers = _caseworkers({row[3] for row in population})
    drawn, assignees = draw(population, params, seed, workers)
    check = RandomCheck.objects.create(
        seed=seed,
        started_at=timezone.now(),
        started_by=by if getattr(by, "pk", None) else None,
        department=department,
        policy_version=version,
        ratios={
            "random_check_ratio": params["random_check_ratio"],
            "red_list_check_factor": params.get("red_list_check_factor", 0.5),
        },
        population=population,
        drawn=drawn,
        assignees=assignees,
    )
    return check


def random_check_replay(check: RandomCheck) -> dict[str, Any]:
    """Recompute a stored draw from its seed, population, ratios and the caseworkers named in it;
    say whether the result matches."""
    params = {**current_policy()[1], **check.ratios}
    names = sorted(set(check.assignees.values()))
    workers: dict[str, list[str]] = {}
    for username, code in User.objects.filter(username__in=names).values_list(
        "username", "department__code"
    ):
        workers.setdefault(code, []).append(username)
    # caseworkers who were active then but are not named in the draw still count for the choice
    current = _caseworkers({row[3] for row in check.population})
    for code, people in current.items():
        workers[code] = sorted(set(workers.get(code, [])) | set(people))
    drawn, assignees = draw(check.population, params, check.seed, workers)
    return {
        "check": check.pk,
        "matches": drawn == check.drawn,
        "assignees_match": assignees == check.assignees,
        "drawn": drawn,
        "stored_drawn": check.drawn,
    }


def expected_share(params: dict[str, Any], grade: str, red: bool = False) -> float:
    return _ratio(params, grade, red)


# --- credit check before approvals --------------------------------------------------------------


def credit_check(
    *, subject: Subject, by: User, matter_reference: str = "", result: dict[str, Any]
) -> CreditCheck:
    if not getattr(by, "is_staff_member", False):
        raise Forbidden(_("信用核查仅对工作人员开放。"))
    return CreditCheck.objects.create(
        subject=subject,
        checked_by=by,
        department=getattr(by, "department", None),
        matter_reference=(matter_reference or "")[:60],
        checked_at=timezone.now(),
        result=result,
    )


MEASURES = (
    "restricted_approval",
    "no_commitment_approval",
    "more_checks",
    "green_channel",
    "fewer_checks",
    "none",
)


def credit_check_feedback(
    *, check: CreditCheck, by: User, measure: str, note: str = ""
) -> CreditCheck:
    if measure not in MEASURES:
        raise ServiceError(
            _("措施代码无效，可选：%(codes)s。") % {"codes": ", ".join(MEASURES)},
            code="invalid",
            errors=[{"field": "measure", "message": _("请选择实际采取的措施。")}],
        )
    with transaction.atomic():
        row = CreditCheck.objects.select_for_update().get(pk=check.pk)
        if (
            row.checked_by_id != by.pk
            and not by.is_supervisor
            and (by.department_id is None or row.department_id != by.department_id)
        ):
            raise NotFound(_("未找到该信用核查记录。"))
        row.feedback_measure = measure
        row.feedback_note = (note or "").strip()
        row.feedback_by = by
        row.feedback_at = timezone.now()
        row._history_user = by  # type: ignore[attr-defined]
        row._change_reason = f"feedback: {measure}"  # type: ignore[attr-defined]
        row.save()
        return row


def is_published(record: Any) -> bool:
    return record is not None and record.status == RecordStatus.PUBLISHED
