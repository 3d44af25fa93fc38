"""Synchronisation of public changes to other platforms ("fix once, update every copy").

Administrators register target platforms. Every change of what the public may see of a credit
record writes one ``SyncEvent`` outbox row per enabled target in the same transaction; a Celery
task delivers it after commit; the sweeps retry and escalate rows past their deadline
(SPEC §4: 3 working days).
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SyncTarget(models.Model):
    name = models.CharField(_("平台名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    token = models.CharField(_("访问令牌"), max_length=200, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = _("同步目标平台")
        verbose_name_plural = _("同步目标平台")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待同步")
        DELIVERED = "delivered", _("已同步")
        FAILED = "failed", _("同步失败")

    # no index of its own: the (target, idempotency_key) unique index leads with it
    target = models.ForeignKey(
        SyncTarget,
        verbose_name=_("同步目标平台"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    event = models.CharField(_("事件"), max_length=40)
    idempotency_key = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    record_id = models.BigIntegerField(null=True, blank=True)
    # the record's department, copied when the row is written: the dashboard counts and lists a
    # department's undelivered rows from this table alone (through the record it read every
    # undelivered row's record: 0.3 s with 200,000 undelivered). No constraint of its own — the
    # record's holds it, and an import would check it once more per row.
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("信源单位"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    case_kind = models.CharField(max_length=20, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    due_at = models.DateTimeField(_("同步期限"))
    delivered_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("同步事件")
        verbose_name_plural = _("同步事件")
        constraints = [
            models.UniqueConstraint(fields=["target", "idempotency_key"], name="sync_event_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="sync_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["due_at", "id"],
                name="sync_overdue",
                condition=~models.Q(status="delivered") & models.Q(escalated_at__isnull=True),
            ),
            # the dashboard's counts of what is not delivered (all, or a department's) and its
            # list of the overdue ones in order: read from the rows not yet delivered, not the
            # whole log of changes (an import's rows share one due time: the id orders them)
            models.Index(
                fields=["due_at", "id"],
                name="sync_undelivered_due",
                condition=~models.Q(status="delivered"),
                include=["status", "department", "record_id"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.target_id} ({self.status})"
