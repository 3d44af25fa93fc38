"""Notification texts of result synchronisation."""

from django.utils.translation import gettext_lazy as _

from notifications.events import register

register(
    "sync.overdue",
    title=_("结果同步逾期：{reference}"),
    body=_("“{record_title}”的变更未能在 {due_at} 前同步到 {target}（{error}），请督办。"),
)
