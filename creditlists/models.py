"""Red and black lists (守信红名单 / 失信黑名单) and their reports to the national platform.

A ``ListEntry`` is one listing of one legal person on one list by the department that decided it
(谁认定谁列入): joined with a reason, a decision reference and a date, and later left with its
own reason, reference and date. The row is never deleted; simple-history keeps every earlier
value, and each join and leave is also an entry in the audit chain ``creditlist:<id>``.

Each join and each leave must be reported to the national platform (信用中国) within a number of
working days (珠海: 10) of the decision; ``NationalReport`` tracks that report. The subject,
department and list type are copied onto the report so that the dashboard's figures are one
grouped query on this table alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from workflow_app.registry.models import Department, Subject


class ListType(models.TextChoices):
    RED = "red", _("守信红名单")
    BLACK = "black", _("失信黑名单")


class EntryStatus(models.TextChoices):
    ACTIVE = "active", _("在列")
    LEFT = "left", _("已移出")


class ReportAction(models.TextChoices):
    JOIN = "join", _("列入")
    LEAVE = "leave", _("移出")


class ListEntry(models.Model):
    subject = models.ForeignKey(
        Subject, verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="list_entries"
    )
    list_type = models.CharField(_("名单"), max_length=10, choices=ListType.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("认定单位"),
        on_delete=models.PROTECT,
        related_name="list_entries",
        db_index=False,  # indexed by creditlist_department, which leads with it
    )
    reason = models.TextField(_("列入理由"))
    decision_reference = models.CharField(_("列入决定文号"), max_length=100)
    joined_on = models.DateField(_("列入日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.ACTIVE
    )
    left_on = models.DateField(_("移出日期"), null=True, blank=True)
    leave_reason = models.TextField(_("移出理由"), blank=True)
    leave_decision_reference = models.CharField(_("移出决定文号"), max_length=100, blank=True)
    joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("列入登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    joined_at = models.DateTimeField(_("列入登记时间"))
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("移出登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    left_at = models.DateTimeField(_("移出登记时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("红黑名单条目")
        verbose_name_plural = _("红黑名单条目")
        constraints = [
            # one active listing of a subject per list; the service says so in words first
            models.UniqueConstraint(
                fields=["subject", "list_type"],
                condition=models.Q(status="active"),
                name="creditlist_one_active_per_list",
            ),
        ]
        indexes = [
            # the public list pages: active entries of one list, newest first
            models.Index(
                fields=["list_type", "-joined_on", "-id"],
                condition=models.Q(status="active"),
                name="creditlist_public",
            ),
            # staff reads: a department's entries by list and status
            models.Index(
                fields=["department", "list_type", "status"], name="creditlist_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_list_type_display()}：{self.subject.name}"

    @property
    def is_active(self) -> bool:
        return self.status == EntryStatus.ACTIVE


class NationalReport(models.Model):
    """The report of one join or one leave to the national platform, due ``days`` working days
    after the decision (``due_date`` is the last day; the period ends at 23:59:59 of it)."""

    entry = models.ForeignKey(
        ListEntry,
        verbose_name=_("名单条目"),
        on_delete=models.PROTECT,
        related_name="national_reports",
    )
    action = models.CharField(_("报送事项"), max_length=10, choices=ReportAction.choices)
    # copied from the entry: the dashboard groups and filters on this table alone
    subject = models.ForeignKey(
        Subject, verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("认定单位"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by the indexes below
    )
    list_type = models.CharField(_("名单"), max_length=10, choices=ListType.choices)
    action_date = models.DateField(_("决定日期"))
    days = models.PositiveSmallIntegerField(_("报送时限（工作日）"))
    due_date = models.DateField(_("报送截止日期"))
    provisional = models.BooleanField(_("按临时日历计算"), default=False)
    basis = models.JSONField(_("期限计算依据"), default=dict, blank=True)
    reported_on = models.DateField(_("报送日期"), null=True, blank=True)
    national_reference = models.CharField(_("国家平台回执编号"), max_length=100, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("报送登记时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("国家平台报送")
        verbose_name_plural = _("国家平台报送")
        constraints = [
            models.UniqueConstraint(fields=["entry", "action"], name="national_report_per_action"),
        ]
        indexes = [
            # the dashboard's figures and overdue list, per department or for all of them
            models.Index(
                fields=["department", "due_date"],
                name="natreport_department_due",
            ),
            models.Index(
                fields=["due_date", "id"],
                condition=models.Q(reported_on__isnull=True),
                name="natreport_unreported_due",
            ),
            # the dashboard's reports made within its range (on time or late)
            models.Index(
                fields=["reported_on"],
                condition=models.Q(reported_on__isnull=False),
                name="natreport_reported_on",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.subject.name}（{self.due_date}）"

    @property
    def is_reported(self) -> bool:
        return self.reported_on is not None
