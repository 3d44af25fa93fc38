"""The credit repair (信用修复) case: its legal lifecycle as a state machine (SPEC §6).

Transitions change only the repair's own fields; the services in ``repair.services`` do the
rest (locks, the record's publication, deadlines, audit, decision document, notifications).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from workflow_app.cases.evidence import EvidenceBase
from workflow_app.cases.history import CaseHistory


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    NEEDS_SUPPLEMENT = "needs_supplement", _("待补正")
    UNDER_REVIEW = "under_review", _("信源单位审查中")
    APPROVED = "approved", _("准予修复")
    REJECTED = "rejected", _("不予修复")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("修复决定已撤销")


OPEN_STATUSES = (Status.SUBMITTED, Status.NEEDS_SUPPLEMENT, Status.UNDER_REVIEW)


class SupplementStep(models.TextChoices):
    INTAKE = "intake", _("受理环节")
    DECISION = "decision", _("决定环节")


def _is_centre(instance: Any, user: Any) -> bool:
    return getattr(user, "role", None) in ("centre", "supervisor")


def _is_owner(instance: Any, user: Any) -> bool:
    return user is not None and user.pk == instance.applicant_id


def _is_record_department(instance: Any, user: Any) -> bool:
    """谁认定谁修复: only the department that determined the record decides."""
    return (
        getattr(user, "role", None) == "department"
        and user.department_id is not None
        and user.department_id == instance.record.department_id
    )


def _acts_on_current_step(instance: Any, user: Any) -> bool:
    if instance.status == Status.UNDER_REVIEW:
        return _is_record_department(instance, user)
    return _is_centre(instance, user)


def _is_supervisor(instance: Any, user: Any) -> bool:
    return getattr(user, "role", None) == "supervisor"


class Repair(FSMModelMixin, models.Model):
    CASE_KIND = "repair"

    reference = models.CharField(_("案件编号"), max_length=40, unique=True)
    subject = models.ForeignKey(  # indexed by repair_subject, which leads with it
        "registry.Subject",
        verbose_name=_("申请主体"),
        on_delete=models.PROTECT,
        related_name="repairs",
        db_index=False,
    )
    record = models.ForeignKey(
        "registry.CreditRecord",
        verbose_name=_("所涉信用信息"),
        on_delete=models.PROTECT,
        related_name="repairs",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="repairs",
    )
    correction_statement = models.TextField(_("纠正失信行为说明"))
    commitment_text = models.TextField(_("信用修复承诺"))
    commitment_accepted = models.BooleanField(_("已签署信用修复承诺"), default=False)
    eligibility = models.JSONField(_("申请时的条件审查结果"), default=list)
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUBMITTED,
        protected=True,
        db_index=True,
    )
    supplement_request = models.TextField(_("补正要求"), blank=True)
    supplement_step = models.CharField(
        _("要求补正的环节"), max_length=20, choices=SupplementStep.choices, blank=True
    )
    supplement_response = models.TextField(_("补正说明"), blank=True)
    decision_reason = models.TextField(_("处理意见"), blank=True)
    policy_snapshot = models.JSONField(_("适用政策参数"), default=dict)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    filed_at = models.DateTimeField(_("提交时间"))
    routed_at = models.DateTimeField(_("转办时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revocation_reason = models.TextField(_("撤销理由"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = CaseHistory()

    class Meta:
        verbose_name = _("信用修复申请")
        verbose_name_plural = _("信用修复申请")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "record"],
                condition=models.Q(status__in=["submitted", "needs_supplement", "under_review"]),
                name="one_open_repair_per_subject_record",
            )
        ]
        indexes = [
            models.Index(fields=["subject", "-filed_at"], name="repair_subject"),
            # the case lists (newest first, filing-date range) and the dashboard's filings of today
            models.Index(fields=["filed_at", "id"], name="repair_filed"),
            models.Index(fields=["subject", "status", "decided_at"], name="repair_subject_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # --- transitions: own fields only -------------------------------------------------------

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.UNDER_REVIEW],
        target=Status.NEEDS_SUPPLEMENT,
        permission=_acts_on_current_step,
    )
    def request_supplement(self, *, reason_text: str) -> None:
        self.supplement_step = (
            SupplementStep.DECISION if self.status == Status.UNDER_REVIEW else SupplementStep.INTAKE
        )
        self.supplement_request = reason_text

    @transition(
        field=status,
        source=Status.NEEDS_SUPPLEMENT,
        target=RETURN_VALUE(Status.SUBMITTED, Status.UNDER_REVIEW),
        permission=_is_owner,
    )
    def supplement(self, *, text: str) -> str:
        """Supplements return the case to the step that asked for them."""
        self.supplement_response = text
        if self.supplement_step == SupplementStep.DECISION:
            return Status.UNDER_REVIEW
        return Status.SUBMITTED

    @transition(field=status, source=Status.NEEDS_SUPPLEMENT, target=Status.REJECTED)
    def lapse(self, *, at: Any) -> None:
        self.decided_at = at

    @transition(
        field=status, source=Status.SUBMITTED, target=Status.UNDER_REVIEW, permission=_is_centre
    )
    def route(self, *, at: Any) -> None:
        self.routed_at = at

    @transition(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.APPROVED,
        permission=_is_record_department,
    )
    def approve(self, *, reason_text: str, at: Any) -> None:
        self.decision_reason = reason_text
        self.decided_at = at

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.UNDER_REVIEW],
        target=Status.REJECTED,
        permission=_acts_on_current_step,
    )
    def reject(self, *, reason_text: str, at: Any) -> None:
        self.decision_reason = reason_text
        self.decided_at = at

    @transition(
        field=status, source=list(OPEN_STATUSES), target=Status.WITHDRAWN, permission=_is_owner
    )
    def withdraw(self, *, at: Any) -> None:
        self.decided_at = at

    @transition(
        field=status, source=Status.APPROVED, target=Status.REVOKED, permission=_is_supervisor
    )
    def revoke(self, *, reason_text: str, at: Any) -> None:
        self.revocation_reason = reason_text
        self.revoked_at = at


class Evidence(EvidenceBase):
    CASE_FIELD = "repair"

    repair = models.ForeignKey(
        Repair, verbose_name=_("信用修复"), on_delete=models.PROTECT, related_name="evidence"
    )
    history = HistoricalRecords()

    class Meta(EvidenceBase.Meta):
        verbose_name = _("修复证明材料")
        verbose_name_plural = _("修复证明材料")
