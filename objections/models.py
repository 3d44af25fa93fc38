"""The objection (异议) case: its legal lifecycle as a state machine (SPEC §5).

Transitions here change only the objection's own fields; everything else (locks, the record's
mark, deadlines, audit, notifications) is done by the services in ``objections.services``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from workflow_app.cases.evidence import EvidenceBase
from workflow_app.cases.history import CaseHistory


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    NEEDS_SUPPLEMENT = "needs_supplement", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    FORWARDED = "forwarded", _("已转信源单位核查")
    RESOLVED = "resolved", _("已办结")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.NEEDS_SUPPLEMENT,
    Status.ACCEPTED,
    Status.FORWARDED,
)


class Grounds(models.TextChoices):
    ERROR = "error", _("信息错误")
    OMISSION = "omission", _("信息遗漏")
    DUPLICATE = "duplicate", _("重复公示")
    SHOULD_NOT_PUBLISH = "should_not_publish", _("不应公示")
    PUBLICITY_EXPIRED = "publicity_expired", _("超期公示")
    INCONSISTENT_WITH_DECISION = "inconsistent_with_decision", _("与决定机关决定不一致")
    OTHER = "other", _("其他")


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("维持原信息")
    MODIFIED = "modified", _("更正信息")
    DELETED = "deleted", _("删除信息")
    UNDETERMINED = "undetermined", _("无法确认")


def _is_centre(instance: Any, user: Any) -> bool:
    return getattr(user, "role", None) in ("centre", "supervisor")


def _is_owner(instance: Any, user: Any) -> bool:
    return user is not None and user.pk == instance.applicant_id


def _is_record_department(instance: Any, user: Any) -> bool:
    return (
        getattr(user, "role", None) == "department"
        and user.department_id is not None
        and user.department_id == instance.record.department_id
    )


def _is_resolver(instance: Any, user: Any) -> bool:
    if instance.status == Status.ACCEPTED:
        return _is_centre(instance, user)
    return _is_record_department(instance, user)


class Objection(FSMModelMixin, models.Model):
    CASE_KIND = "objection"

    reference = models.CharField(_("案件编号"), max_length=40, unique=True)
    subject = models.ForeignKey(  # indexed by objection_subject, which leads with it
        "registry.Subject",
        verbose_name=_("申请主体"),
        on_delete=models.PROTECT,
        related_name="objections",
        db_index=False,
    )
    record = models.ForeignKey(
        "registry.CreditRecord",
        verbose_name=_("所涉信用信息"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    grounds = models.CharField(_("异议理由"), max_length=40, choices=Grounds.choices)
    description = models.TextField(_("异议说明"))
    commitment_accepted = models.BooleanField(_("已签署异议承诺"), default=False)
    commitment_text = models.TextField(_("异议承诺内容"), blank=True)
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUBMITTED,
        protected=True,
        db_index=True,
    )
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    decision_reason = models.TextField(_("处理意见"), blank=True)
    supplement_request = models.TextField(_("补正要求"), blank=True)
    supplement_response = models.TextField(_("补正说明"), blank=True)
    result_record = models.ForeignKey(
        "registry.CreditRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("更正后的信息"),
    )
    policy_snapshot = models.JSONField(_("适用政策参数"), default=dict)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    filed_at = models.DateTimeField(_("提交时间"))
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = CaseHistory()

    class Meta:
        verbose_name = _("异议申请")
        verbose_name_plural = _("异议申请")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "record"],
                condition=models.Q(
                    status__in=["submitted", "needs_supplement", "accepted", "forwarded"]
                ),
                name="one_open_objection_per_subject_record",
            )
        ]
        indexes = [
            models.Index(fields=["subject", "-filed_at"], name="objection_subject"),
            # the case lists (newest first, filing-date range) and the dashboard's filings of today
            models.Index(fields=["filed_at", "id"], name="objection_filed"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # --- transitions: own fields only -------------------------------------------------------

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.NEEDS_SUPPLEMENT,
        permission=_is_centre,
    )
    def request_supplement(self, *, reason_text: str) -> None:
        self.supplement_request = reason_text

    @transition(
        field=status,
        source=Status.NEEDS_SUPPLEMENT,
        target=Status.SUBMITTED,
        permission=_is_owner,
    )
    def supplement(self, *, text: str) -> None:
        self.supplement_response = text

    @transition(field=status, source=Status.NEEDS_SUPPLEMENT, target=Status.NOT_ACCEPTED)
    def lapse(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.decided_at = at

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.NOT_ACCEPTED,
        permission=_is_centre,
    )
    def refuse(self, *, reason_text: str, at) -> None:  # type: ignore[no-untyped-def]
        self.decision_reason = reason_text
        self.decided_at = at

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.ACCEPTED,
        permission=_is_centre,
    )
    def accept(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.ACCEPTED,
        target=Status.FORWARDED,
        permission=_is_centre,
    )
    def forward(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.ACCEPTED, Status.FORWARDED],
        target=Status.RESOLVED,
        permission=_is_resolver,
    )
    def resolve(self, *, outcome: str, reason_text: str, at) -> None:  # type: ignore[no-untyped-def]
        self.outcome = outcome
        self.decision_reason = reason_text
        self.decided_at = at

    @transition(
        field=status,
        source=list(OPEN_STATUSES),
        target=Status.WITHDRAWN,
        permission=_is_owner,
    )
    def withdraw(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.decided_at = at


class Evidence(EvidenceBase):
    CASE_FIELD = "objection"

    objection = models.ForeignKey(
        Objection, verbose_name=_("异议"), on_delete=models.PROTECT, related_name="evidence"
    )
    history = HistoricalRecords()

    class Meta(EvidenceBase.Meta):
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")


def evidence_upload_to(instance: Any, filename: str) -> str:
    """Kept for migration 0001; evidence is stored by workflow_app.cases.evidence now."""
    return f"evidence/objection/{filename}"
