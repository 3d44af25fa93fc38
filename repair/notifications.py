"""Notification texts of the repair workflow (Chinese source, English via locale/)."""

from django.utils.translation import gettext_lazy as _

from notifications.events import register

register(
    "repair.submitted",
    title=_("信用修复申请已提交：{reference}"),
    body=_("您对“{record_title}”的信用修复申请已提交，信用中心将在受理期限内审查。"),
)
register(
    "repair.new_task",
    title=_("新的信用修复申请待受理：{reference}"),
    body=_("{subject} 申请修复“{record_title}”，请在受理期限内审查并转办。"),
)
register(
    "repair.needs_supplement",
    title=_("信用修复申请需要补正：{reference}"),
    body=_("请补正材料：{reason}。请在补正期限内提交，逾期将不予修复。"),
)
register(
    "repair.supplemented",
    title=_("补正材料已提交：{reference}"),
    body=_("您的补正材料已提交，办理期限自今日重新计算。"),
)
register(
    "repair.lapsed",
    title=_("信用修复申请不予修复：{reference}"),
    body=_("您未在补正期限内补正“{record_title}”的修复材料，申请不予修复。"),
)
register(
    "repair.routed",
    title=_("信用修复申请已转办：{reference}"),
    body=_("您的修复申请已转 {department}（认定单位）作出决定。"),
)
register(
    "repair.routed_to_department",
    title=_("新的信用修复决定任务：{reference}"),
    body=_("{subject} 申请修复本部门认定的“{record_title}”，请在决定期限内办理。"),
)
register(
    "repair.rejected",
    title=_("信用修复申请不予修复：{reference}"),
    body=_("您对“{record_title}”的修复申请不予修复。理由：{reason}"),
)
register(
    "repair.approved",
    title=_("信用修复申请已准予：{reference}"),
    body=_("“{record_title}”已停止公示。修复决定书验证码：{code}。请遵守信用修复承诺。"),
)
register(
    "repair.withdrawn",
    title=_("信用修复申请已撤回：{reference}"),
    body=_("您已撤回对“{record_title}”的修复申请。"),
)
register(
    "repair.revoked",
    title=_("信用修复决定已撤销：{reference}"),
    body=_("“{record_title}”的修复决定已撤销，该信息恢复公示至 {publicity_end}。理由：{reason}"),
)
register(
    "record.dishonesty_notice",
    title=_("失信信息公示及信用修复告知：{record_title}"),
    body=_(
        "{department} 于 {decision_date} 作出的“{record_title}”（{severity}）已公示。"
        "纠正失信行为后，可于 {first_date} 起在本系统申请信用修复（信用报告 → 申请信用修复）。"
    ),
)
