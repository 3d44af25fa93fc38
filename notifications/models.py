"""In-app inbox and the outbox of deliveries (one row per event, recipient and channel)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    INAPP = "inapp", _("站内信")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class Delivery(models.Model):
    """Outbox row, written in the same transaction as the change it reports."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("无需发送")

    event_key = models.CharField(max_length=200)
    event = models.CharField(max_length=60)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    context = models.JSONField(default=dict, blank=True)
    case_kind = models.CharField(max_length=20, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient", "channel"], name="delivery_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="delivery_pending",
                condition=models.Q(status="pending"),
            )
        ]


class Notification(models.Model):
    """A message in a user's in-app inbox."""

    recipient = models.ForeignKey(  # indexed by inbox, which leads with it
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    event_key = models.CharField(max_length=200)
    event = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    body = models.TextField()
    case_kind = models.CharField(max_length=20, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient"], name="notification_once")
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="inbox")]
