"""Every write to the red and black lists: join, leave, and the report to the national platform.

Each service checks everything first and refuses with a message a caseworker can act on (nothing
is changed then); otherwise, in one transaction on locked rows, it writes the entry with its
history user and reason, the subject's list flag (``Subject.red_list`` / ``black_list``, which
other workflows read: commitments refuse black-listed subjects), the national-platform report
with its due date, and one audit entry in the chain ``creditlist:<entry id>``.

Who may act: the department that decided the listing (谁认定谁列入) — a department caseworker
for their own department only — or an administrator (the admin site); ``by=None`` is the
system (commands).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow_app.accounts.models import Role
from workflow_app.api import Conflict, Forbidden, ServiceError
from workflow_app.audit.services import audit_append
from workflow_app.registry.models import Department, Subject, SubjectKind
from workflow_app.registry.services import subject_set_list_flag
from workflow_app.workdays.calendar import add_working_days
from workflow_app.workdays.policy import current_policy

from .models import EntryStatus, ListEntry, ListType, NationalReport, ReportAction

CASE_KIND = "creditlist"
# The policy parameter ``national_list_report_days`` (workdays/policy.py) sets the period; this
# is its default, used if the parameter is ever missing from the policy in force.
NATIONAL_REPORT_DAYS = 10
MAX_TEXT = 2000
MAX_REFERENCE = 100


def _save(obj: Any, *, by: Any, reason: str) -> None:
    obj._change_reason = reason
    obj._history_user = by if getattr(by, "pk", None) else None
    obj.save()


def national_report_days() -> int:
    """The period in force now (a report keeps the value it was opened with)."""
    _version, params = current_policy()
    days = params.get("national_list_report_days", NATIONAL_REPORT_DAYS)
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else 10


def _may_act(by: Any, department_id: int) -> None:
    if by is None:
        return
    if getattr(by, "is_superuser", False) or getattr(by, "role", None) == Role.ADMIN:
        return
    if getattr(by, "role", None) == Role.DEPARTMENT and by.department_id is not None:
        if by.department_id == department_id:
            return
        raise Forbidden(
            _("该名单条目由其他单位认定，只能由认定单位办理（谁认定谁列入、谁认定谁移出）。"),
            code="other_department",
        )
    raise Forbidden(
        _("只有作出认定的信源单位经办人或管理员可以办理红黑名单的列入、移出和报送。"),
        code="forbidden",
    )


def _field_error(field: str, message: str, code: str) -> ServiceError:
    return ServiceError(message, code=code, errors=[{"field": field, "message": message}])


def _clean_text(value: Any, field: str, *, required_message: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _field_error(field, required_message, f"{field}_required")
    if len(text) > limit:
        raise _field_error(
            field,
            _("内容不能超过 %(n)d 个字符。") % {"n": limit},
            f"{field}_too_long",
        )
    return text


def _check_date(value: Any, field: str, *, not_before: datetime.date | None = None) -> None:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise _field_error(field, _("请填写日期（YYYY-MM-DD）。"), f"{field}_required")
    if value > timezone.localdate():
        raise _field_error(field, _("日期不能晚于今天。"), "date_in_future")
    if not_before is not None and value < not_before:
        raise _field_error(
            field,
            _("日期不能早于 %(date)s。") % {"date": not_before.isoformat()},
            "date_too_early",
        )


def _open_report(*, entry: ListEntry, action: str, action_date: datetime.date) -> NationalReport:
    days = national_report_days()
    computation = add_working_days(action_date, days)
    report = NationalReport(
        entry=entry,
        action=action,
        subject_id=entry.subject_id,
        department_id=entry.department_id,
        list_type=entry.list_type,
        action_date=action_date,
        days=days,
        due_date=computation.due_at.date(),
        provisional=computation.provisional,
        basis=computation.basis,
    )
    return report


def list_join(
    *,
    subject: Subject,
    list_type: str,
    department: Department,
    reason: str,
    decision_reference: str,
    joined_on: datetime.date,
    by: Any,
) -> ListEntry:
    """List ``subject`` (a legal person) on the red or black list by ``department``'s decision."""
    if list_type not in ListType.values:
        raise _field_error(
            "list_type", _("名单类型应为 red（守信红名单）或 black（失信黑名单）。"), "invalid_list"
        )
    _may_act(by, department.pk)
    reason = _clean_text(reason, "reason", required_message=_("请填写列入理由。"), limit=MAX_TEXT)
    decision_reference = _clean_text(
        decision_reference,
        "decision_reference",
        required_message=_("请填写列入决定文号。"),
        limit=MAX_REFERENCE,
    )
    _check_date(joined_on, "joined_on")
    if subject.kind != SubjectKind.LEGAL_PERSON:
        raise _field_error(
            "identifier",
            _("红黑名单只列入法人和非法人组织，自然人不能列入。"),
            "natural_person",
        )
    label = ListType(list_type).label
    with transaction.atomic():
        # the subject's row serialises every list change of that subject
        locked = Subject.objects.select_for_update().get(pk=subject.pk)
        active = set(
            ListEntry.objects.filter(subject=locked, status=EntryStatus.ACTIVE).values_list(
                "list_type", flat=True
            )
        )
        if list_type in active:
            raise Conflict(
                _("该主体已在%(list)s中，不能重复列入。") % {"list": label}, code="already_listed"
            )
        if list_type == ListType.RED and ListType.BLACK in active:
            raise Conflict(
                _("该主体在失信黑名单中，不能列入守信红名单；请先依法移出黑名单。"),
                code="on_black_list",
            )
        now = timezone.now()
        entry = ListEntry(
            subject=locked,
            list_type=list_type,
            department=department,
            reason=reason,
            decision_reference=decision_reference,
            joined_on=joined_on,
            status=EntryStatus.ACTIVE,
            joined_by=by if getattr(by, "pk", None) else None,
            joined_at=now,
        )
        try:
            with transaction.atomic():
                _save(entry, by=by, reason=f"joined the {list_type} list: {decision_reference}")
        except IntegrityError as exc:  # listed concurrently (the lock makes this rare)
            raise Conflict(
                _("该主体已在%(list)s中，不能重复列入。") % {"list": label}, code="already_listed"
            ) from exc
        report = _open_report(entry=entry, action=ReportAction.JOIN, action_date=joined_on)
        _save(report, by=by, reason="national report opened (join)")
        subject_set_list_flag(subject=locked, list_type=list_type, on=True, by=by)
        audit_append(
            case_kind=CASE_KIND,
            case_id=entry.pk,
            from_state="",
            to_state=EntryStatus.ACTIVE,
            actor=by,
            reason=reason,
            task="join",
            data={
                "msg": "creditlist.joined",
                "params": {
                    "list_type": list_type,
                    "department": department.code,
                    "decision_reference": decision_reference,
                    "date": joined_on.isoformat(),
                    "report_due": report.due_date.isoformat(),
                },
            },
        )
    setattr(subject, "red_list" if list_type == ListType.RED else "black_list", True)
    return entry


def list_leave(
    *,
    entry: ListEntry,
    reason: str,
    decision_reference: str,
    left_on: datetime.date,
    by: Any,
) -> ListEntry:
    """Remove an active entry from its list by the deciding department's decision."""
    _may_act(by, entry.department_id)
    reason = _clean_text(reason, "reason", required_message=_("请填写移出理由。"), limit=MAX_TEXT)
    decision_reference = _clean_text(
        decision_reference,
        "decision_reference",
        required_message=_("请填写移出决定文号。"),
        limit=MAX_REFERENCE,
    )
    _check_date(left_on, "left_on", not_before=entry.joined_on)
    with transaction.atomic():
        Subject.objects.select_for_update().filter(pk=entry.subject_id).first()
        row = ListEntry.objects.select_for_update().get(pk=entry.pk)
        if row.status != EntryStatus.ACTIVE:
            raise Conflict(
                _("该名单条目已于 %(date)s 移出，不能再次移出。")
                % {"date": row.left_on.isoformat() if row.left_on else ""},
                code="already_left",
            )
        row.status = EntryStatus.LEFT
        row.left_on = left_on
        row.leave_reason = reason
        row.leave_decision_reference = decision_reference
        row.left_by = by if getattr(by, "pk", None) else None
        row.left_at = timezone.now()
        _save(row, by=by, reason=f"left the {row.list_type} list: {decision_reference}")
        report = _open_report(entry=row, action=ReportAction.LEAVE, action_date=left_on)
        _save(report, by=by, reason="national report opened (leave)")
        subject_set_list_flag(subject=row.subject, list_type=row.list_type, on=False, by=by)
        audit_append(
            case_kind=CASE_KIND,
            case_id=row.pk,
            from_state=EntryStatus.ACTIVE,
            to_state=EntryStatus.LEFT,
            actor=by,
            reason=reason,
            task="leave",
            data={
                "msg": "creditlist.left",
                "params": {
                    "list_type": row.list_type,
                    "department": row.department.code,
                    "decision_reference": decision_reference,
                    "date": left_on.isoformat(),
                    "report_due": report.due_date.isoformat(),
                },
            },
        )
    for field in (
        "status",
        "left_on",
        "leave_reason",
        "leave_decision_reference",
        "left_by",
        "left_at",
    ):
        setattr(entry, field, getattr(row, field))
    if "subject" in entry._state.fields_cache:
        flag = "red_list" if row.list_type == ListType.RED else "black_list"
        setattr(entry.subject, flag, False)
    return row


def list_report_national(
    *,
    report: NationalReport,
    reported_on: datetime.date,
    national_reference: str,
    by: Any,
) -> NationalReport:
    """Record that a join or leave was reported to the national platform (on a past date)."""
    _may_act(by, report.department_id)
    national_reference = _clean_text(
        national_reference,
        "national_reference",
        required_message=_("请填写国家平台回执编号。"),
        limit=MAX_REFERENCE,
    )
    _check_date(reported_on, "reported_on", not_before=report.action_date)
    with transaction.atomic():
        row = NationalReport.objects.select_for_update().get(pk=report.pk)
        if row.reported_on is not None:
            raise Conflict(
                _("该事项已于 %(date)s 报送国家平台（回执 %(ref)s），不能重复报送。")
                % {"date": row.reported_on.isoformat(), "ref": row.national_reference},
                code="already_reported",
            )
        row.reported_on = reported_on
        row.national_reference = national_reference
        row.reported_by = by if getattr(by, "pk", None) else None
        row.recorded_at = timezone.now()
        _save(row, by=by, reason=f"reported to the national platform: {national_reference}")
        audit_append(
            case_kind=CASE_KIND,
            case_id=row.entry_id,
            event="note",
            actor=by,
            task="national_report",
            data={
                "msg": "creditlist.reported",
                "params": {
                    "report_action": row.action,
                    "date": reported_on.isoformat(),
                    "national_reference": national_reference,
                    "on_time": reported_on <= row.due_date,
                },
            },
        )
    for field in ("reported_on", "national_reference", "reported_by", "recorded_at"):
        setattr(report, field, getattr(row, field))
    return row


def demo_entries(today: datetime.date) -> int:
    """Demo data: a list entry (decided by the market regulator 30 days ago, reported to the
    national platform for the black list, not yet for the red) for every demo subject that is
    flagged on a list without one. Returns how many were created; running it again adds none."""
    department = Department.objects.filter(code="SAMR").first()
    if department is None:
        return 0
    created = 0
    decided = today - datetime.timedelta(days=30)
    for list_type, flag in ((ListType.BLACK, "black_list"), (ListType.RED, "red_list")):
        subjects = Subject.objects.filter(kind=SubjectKind.LEGAL_PERSON, **{flag: True}).exclude(
            list_entries__list_type=list_type, list_entries__status=EntryStatus.ACTIVE
        )
        for subject in subjects:
            entry = list_join(
                subject=subject,
                list_type=list_type,
                department=department,
                reason=(
                    "拒不履行行政处罚决定，情节严重（演示数据）"
                    if list_type == ListType.BLACK
                    else "连续三年信用等级A级，无失信记录（演示数据）"
                ),
                decision_reference=f"深市监信〔{decided.year}〕{10 + created}号",
                joined_on=decided,
                by=None,
            )
            if list_type == ListType.BLACK:
                list_report_national(
                    report=entry.national_reports.get(),
                    reported_on=decided + datetime.timedelta(days=3),
                    national_reference=f"NAT-DEMO-{entry.pk}",
                    by=None,
                )
            created += 1
    return created
