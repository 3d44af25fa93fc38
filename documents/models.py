"""Credit reports issued as PDF: what each one showed, and the hash that proves it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class IssuedReport(models.Model):
    """One PDF credit report as issued: the snapshot of what it showed (codes and values, no
    translated labels, so the hash does not depend on the reader's language) and its SHA-256.
    The public verification page finds it by ``code`` and compares a presented hash."""

    code = models.CharField(_("验证码"), max_length=32, unique=True)
    subject = models.ForeignKey(
        "registry.Subject",
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="issued_reports",
    )
    issued_at = models.DateTimeField(_("出具时间"))
    issued_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("下载人"),
    )
    content = models.JSONField(_("报告内容"))
    content_hash = models.CharField(_("内容散列（SHA-256）"), max_length=64)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("信用报告出具记录")
        verbose_name_plural = _("信用报告出具记录")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.code} · {self.subject.name}"
