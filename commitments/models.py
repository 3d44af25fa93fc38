"""Credit commitments (信用承诺, SPEC §7): the commitment letter and its lifecycle, the
fulfilment evidence, the random-check draws and the credit checks made before approvals.

Fields follow the commitment data template in use on credit platforms (GB/T 46277-2025
practice): reference (area code 6 + date 8 + serial 6), subject, kind, the matter it belongs to
(department, matter reference and title, the approval's status), the text and the liability for
breach shown to the signer, the publicity scope, the due date, the fulfilment evidence and the
verification finding.
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


class Kind(models.TextChoices):
    NOTIFICATION = "notification", _("告知承诺")
    DEFICIENCY = "deficiency", _("容缺受理承诺")
    REPAIR = "repair", _("信用修复承诺")
    VOLUNTARY = "voluntary", _("主动承诺")


class Status(models.TextChoices):
    ACTIVE = "active", _("履约中")
    FULFILLED = "fulfilled", _("已履约")
    BREACH_SUSPECTED = "breach_suspected", _("疑似违诺")
    BREACH_CONFIRMED = "breach_confirmed", _("违诺已确认")
    LAPSED = "lapsed", _("已失效")


class Publicity(models.TextChoices):
    PUBLIC = "public", _("公开")
    RESTRICTED = "restricted", _("仅工作人员可见")
    NONE = "none", _("不公开")


class MatterStatus(models.TextChoices):
    GRANTED = "granted", _("已准予")
    REVOKED = "revoked", _("已撤销")
    TERMINATED = "terminated", _("已终止")


class Finding(models.TextChoices):
    FULLY = "fully", _("完全履约")
    PARTLY = "partly", _("部分履约")
    NOT = "not", _("未履约")


OPEN_STATUSES = (Status.ACTIVE, Status.BREACH_SUSPECTED)


def _is_matter_department(instance: Any, user: Any) -> bool:
    return (
        getattr(user, "role", None) == "department"
        and user.department_id is not None
        and user.department_id == instance.department_id
    )


def _is_supervisor(instance: Any, user: Any) -> bool:
    return getattr(user, "role", None) in ("supervisor", "admin")


class Commitment(FSMModelMixin, models.Model):
    CASE_KIND = "commitment"

    reference = models.CharField(_("承诺编号"), max_length=40, unique=True)
    subject = models.ForeignKey(  # indexed by commitment_subject_status, which leads with it
        "registry.Subject",
        verbose_name=_("承诺主体"),
        on_delete=models.PROTECT,
        related_name="commitments",
        db_index=False,
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签署人"),
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    kind = models.CharField(_("承诺类型"), max_length=20, choices=Kind.choices)
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.ACTIVE,
        protected=True,
        db_index=False,  # indexed by commitment_status_due, which leads with it
    )
    department = models.ForeignKey(
        "registry.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("事项所属部门"),
    )
    matter_reference = models.CharField(_("事项编号"), max_length=60, blank=True)
    matter_title = models.CharField(_("事项名称"), max_length=200, blank=True)
    text = models.TextField(_("承诺内容"))
    liability = models.TextField(_("违诺责任"), blank=True)
    publicity = models.CharField(
        _("公开范围"), max_length=20, choices=Publicity.choices, default=Publicity.RESTRICTED
    )
    due_date = models.DateField(_("履约期限"), null=True, blank=True)
    repair = models.OneToOneField(
        "repair.Repair",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repair_commitment",
        verbose_name=_("所属信用修复"),
    )
    matter_status = models.CharField(
        _("事项状态"), max_length=20, choices=MatterStatus.choices, blank=True
    )
    signed_at = models.DateTimeField(_("签署时间"))
    policy_snapshot = models.JSONField(_("适用政策参数"), default=dict)
    fulfilment_note = models.TextField(_("履约说明"), blank=True)
    fulfilment_at = models.DateTimeField(_("提交履约材料时间"), null=True, blank=True)
    finding = models.CharField(_("核查结论"), max_length=20, choices=Finding.choices, blank=True)
    finding_unmet = models.TextField(_("未履约事项"), blank=True)
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("核查人"),
    )
    found_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    breach_reason = models.TextField(_("违诺情形"), blank=True)
    review_reason = models.TextField(_("审查意见"), blank=True)
    reviewed_at = models.DateTimeField(_("审查时间"), null=True, blank=True)
    breach_record = models.ForeignKey(
        "registry.CreditRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("违诺失信信息"),
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = CaseHistory()

    class Meta:
        verbose_name = _("信用承诺")
        verbose_name_plural = _("信用承诺")
        indexes = [
            models.Index(fields=["subject", "status"], name="commitment_subject_status"),
            models.Index(fields=["status", "due_date"], name="commitment_status_due"),
            # the case list's order and the dashboard's signings per day (as objections and
            # repairs have theirs: a plan check found this one missing)
            models.Index(fields=["signed_at", "id"], name="commitment_signed"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # the case pages show "the record"; a commitment's is its breach record, if any
    @property
    def record(self) -> Any:
        return self.breach_record

    @property
    def applicant_id(self) -> Any:
        return self.signer_id

    @property
    def filed_at(self) -> Any:
        return self.signed_at

    # --- transitions: own fields only -------------------------------------------------------

    @transition(
        field=status,
        source=Status.ACTIVE,
        target=Status.FULFILLED,
        permission=_is_matter_department,
    )
    def fulfil(self, *, by: Any, at: Any) -> None:
        self.finding = Finding.FULLY
        self.found_by = by
        self.found_at = at
        self.closed_at = at

    @transition(
        field=status,
        source=Status.ACTIVE,
        target=Status.BREACH_SUSPECTED,
        permission=_is_matter_department,
    )
    def suspect_breach(
        self, *, by: Any, at: Any, reason_text: str, finding: str, unmet: str
    ) -> None:
        self.finding = finding
        self.finding_unmet = unmet
        self.found_by = by
        self.found_at = at
        self.breach_reason = reason_text

    @transition(field=status, source=Status.ACTIVE, target=Status.BREACH_SUSPECTED)
    def due_date_passed(self, *, at: Any, reason_text: str) -> None:
        self.finding = Finding.NOT
        self.found_at = at
        self.breach_reason = reason_text

    @transition(
        field=status,
        source=Status.BREACH_SUSPECTED,
        target=Status.ACTIVE,
        permission=_is_supervisor,
    )
    def dismiss(self, *, reason_text: str, at: Any) -> None:
        self.review_reason = reason_text
        self.reviewed_at = at

    @transition(
        field=status,
        source=Status.BREACH_SUSPECTED,
        target=Status.BREACH_CONFIRMED,
        permission=_is_supervisor,
    )
    def confirm_breach(self, *, reason_text: str, at: Any) -> None:
        self.review_reason = reason_text
        self.reviewed_at = at
        self.closed_at = at

    @transition(field=status, source=Status.ACTIVE, target=Status.LAPSED)
    def lapse(self, *, at: Any) -> None:
        self.matter_status = MatterStatus.TERMINATED
        self.closed_at = at


class Evidence(EvidenceBase):
    CASE_FIELD = "commitment"

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("承诺"), on_delete=models.PROTECT, related_name="evidence"
    )
    history = HistoricalRecords()

    class Meta(EvidenceBase.Meta):
        verbose_name = _("履约材料")
        verbose_name_plural = _("履约材料")


class RandomCheck(models.Model):
    """One 双随机 draw, stored so that it can be reproduced: seed, who and when, the policy
    version, the population (ids in the order drawn from), what was drawn and who got it."""

    seed = models.BigIntegerField(_("随机种子"))
    started_at = models.DateTimeField(_("抽取时间"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("发起人"),
    )
    department = models.ForeignKey(
        "registry.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("限定部门"),
    )
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    ratios = models.JSONField(_("抽查比例"), default=dict)
    population = models.JSONField(_("抽查范围"), default=list)  # [[id, grade, red_list], …]
    drawn = models.JSONField(_("抽中"), default=list)  # [id, …]
    assignees = models.JSONField(_("检查人员"), default=dict)  # {id: username}
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("双随机抽查")
        verbose_name_plural = _("双随机抽查")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.started_at:%Y-%m-%d}"


class CreditCheck(models.Model):
    """A credit check made by staff before approving a matter (联合奖惩 embedded in approval),
    and the measure the department reports it applied."""

    subject = models.ForeignKey(  # indexed by creditcheck_subject, which leads with it
        "registry.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="credit_checks",
        db_index=False,
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    matter_reference = models.CharField(_("事项编号"), max_length=60, blank=True)
    checked_at = models.DateTimeField(_("查询时间"))
    result = models.JSONField(_("查询结果"), default=dict)
    feedback_measure = models.CharField(_("采取的措施"), max_length=60, blank=True)
    feedback_note = models.TextField(_("反馈说明"), blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反馈人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("信用核查")
        verbose_name_plural = _("信用核查")
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["subject", "-checked_at"], name="creditcheck_subject")]
