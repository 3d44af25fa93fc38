"""The tamper-evident transition log.

One hash chain per case (``chain_key`` such as ``objection:42``): an entry's hash covers its
content and the previous entry's hash in the same chain. ``AuditChain`` holds each chain's head
(length and last hash) and is the row that is locked when an entry is appended, so transitions
on different cases never wait on each other. A removed entry shows as a gap in ``seq`` or as a
head that no longer matches the last entry.

Entries reference cases and actors by plain ids (no foreign keys), so deleting a case or a user
never deletes or alters its trail.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditChain(models.Model):
    key = models.CharField(_("链标识"), max_length=64, unique=True)
    length = models.PositiveIntegerField(_("条目数"), default=0)
    head_hash = models.CharField(_("链尾哈希"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计链")
        verbose_name_plural = _("审计链")

    def __str__(self) -> str:
        return f"{self.key} ({self.length})"


class TransitionLog(models.Model):
    class Event(models.TextChoices):
        TRANSITION = "transition", _("状态变更")
        ESCALATION = "escalation", _("逾期上报")
        REMINDER = "reminder", _("到期提醒")
        DEADLINE = "deadline", _("期限重算")
        ASSIGNMENT = "assignment", _("任务分派")
        NOTE = "note", _("备注")

    chain_key = models.CharField(_("链标识"), max_length=64)
    seq = models.PositiveIntegerField(_("序号"))
    case_kind = models.CharField(_("业务"), max_length=20)
    case_id = models.BigIntegerField(_("案件 ID"))
    event = models.CharField(
        _("事件"), max_length=20, choices=Event.choices, default=Event.TRANSITION
    )
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30, blank=True)
    actor_id = models.BigIntegerField(_("操作人 ID"), null=True, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"))
    reason = models.TextField(_("理由"), blank=True)
    task = models.CharField(_("任务"), max_length=60, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64)

    class Meta:
        verbose_name = _("状态变更日志")
        verbose_name_plural = _("状态变更日志")
        ordering = ["chain_key", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain_key", "seq"], name="audit_chain_seq_unique")
        ]
        indexes = [models.Index(fields=["case_kind", "case_id"], name="audit_case")]

    def __str__(self) -> str:
        return f"{self.chain_key}#{self.seq} {self.from_state}→{self.to_state}"
