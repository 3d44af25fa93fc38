"""Credit commitments (信用承诺, SPEC §7).

This first part carries the commitment record itself, with exactly the SPEC §7 kinds and states;
approved repairs create their ``repair`` commitment here. Signing by applicants, verification,
breach review and random checks arrive with the commitments issue (#7).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin
from simple_history.models import HistoricalRecords


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


class Commitment(FSMModelMixin, models.Model):
    CASE_KIND = "commitment"

    reference = models.CharField(_("承诺编号"), max_length=40, unique=True)
    subject = models.ForeignKey(
        "registry.Subject", on_delete=models.PROTECT, related_name="commitments"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commitments"
    )
    kind = models.CharField(_("承诺类型"), max_length=20, choices=Kind.choices)
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.ACTIVE,
        protected=True,
        db_index=True,
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
    signed_at = models.DateTimeField(_("签署时间"))
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("信用承诺")
        verbose_name_plural = _("信用承诺")
        indexes = [models.Index(fields=["subject", "status"], name="commitment_subject_status")]

    def __str__(self) -> str:
        return self.reference
