"""Notification texts of result synchronisation."""

from django.utils.translation import gettext_lazy as _

from notifications.events import register

register(
    "sync.overdue",
    title=_("结果同步逾期：{reference}"),
    body=_("“{record_title}”的变更未能在 {due_at} 前同步到 {target}（{error}），请督办。"),
)

register(
    "sync.overdue_many",
    title=_("结果同步逾期：{count} 条未同步到 {target}"),
    body=_(
        "{count} 条信用信息变更未能在期限内同步到 {target}，最早的期限为 {due_at}"
        "（如“{record_title}”，{reference}）；最近一次错误：{error}。请督办。"
    ),
)
