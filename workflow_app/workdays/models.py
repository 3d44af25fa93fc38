"""Working-day calendar data, policy parameters and the generic deadline engine's rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CalendarDay(models.Model):
    """An administrator-maintained day: an official holiday or make-up working day for a year the
    ``chinese-calendar`` package does not cover, or a local override of any year."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("节假日（不上班）")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("日历日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class CalendarYear(models.Model):
    """A year whose official calendar an administrator has loaded (beyond the package's range)."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(_("导入时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("已维护年份")
        verbose_name_plural = _("已维护年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class PolicyVersion(models.Model):
    """One version of the policy parameters. The newest version whose ``effective_from`` has come
    is in force; cases keep a snapshot of the parameters when they are filed."""

    effective_from = models.DateTimeField(_("生效时间"))
    params = models.JSONField(_("参数"))
    note = models.CharField(_("修改说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("政策参数版本")
        verbose_name_plural = _("政策参数版本")
        ordering = ["-effective_from", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.effective_from:%Y-%m-%d}"


class Deadline(models.Model):
    """A deadline of a case, with how it was computed, and its reminder/escalation bookkeeping.

    Any case type registers deadlines through ``workdays.deadlines``; the sweeps work on this table
    alone, set-based.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        MET = "met", _("已完成")
        STOPPED = "stopped", _("已中止")
        CANCELLED = "cancelled", _("已取消")
        LAPSED = "lapsed", _("已逾期失效")

    case_kind = models.CharField(max_length=20)
    case_id = models.BigIntegerField()
    case_reference = models.CharField(max_length=40, blank=True)
    kind = models.CharField(_("期限类型"), max_length=40)
    start_at = models.DateTimeField(_("起算事件时间"))
    unit = models.CharField(max_length=20, default="working_days")
    amount = models.PositiveIntegerField(_("期限"))
    due_at = models.DateTimeField(_("截止时间"), db_index=True)
    provisional = models.BooleanField(_("临时（无官方日历）"), default=False)
    basis = models.JSONField(_("计算依据"), default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    queue = models.CharField(max_length=40, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # the department the case is about (its record's source department, a commitment's matter
    # department): supervisors' dashboards group and filter by it without joining every case table
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("期限")
        verbose_name_plural = _("期限")
        indexes = [
            models.Index(fields=["case_kind", "case_id"], name="deadline_case"),
            models.Index(
                fields=["remind_at"],
                name="deadline_to_remind",
                condition=models.Q(status="open", reminded_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="deadline_to_escalate",
                condition=models.Q(status="open", escalated_at__isnull=True),
            ),
            # the dashboard: open deadlines by workflow and department, completed ones by date
            models.Index(
                fields=["case_kind", "department", "due_at"],
                name="deadline_open_dashboard",
                condition=models.Q(status="open"),
                include=["queue", "remind_at", "kind", "case_id"],  # read from the index only
            ),
            models.Index(
                fields=["due_at", "id"],
                name="deadline_open_due",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["closed_at"],
                name="deadline_met_dashboard",
                condition=models.Q(status="met"),
                include=["case_kind", "department", "kind", "start_at", "due_at", "queue"],
            ),
            models.Index(
                fields=["id"],
                name="deadline_provisional_open",
                condition=models.Q(status="open", provisional=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_kind}#{self.case_id} {self.kind} → {self.due_at:%Y-%m-%d %H:%M}"
