"""Notification texts of the objection workflow (Chinese source, English via locale/)."""

from django.utils.translation import gettext_lazy as _

from notifications.events import register

register(
    "objection.submitted",
    title=_("异议申请已提交：{reference}"),
    body=_("您对“{record_title}”提出的异议已提交，信用中心将在受理期限内审查。"),
)
register(
    "objection.new_task",
    title=_("新的异议申请待受理：{reference}"),
    body=_("{subject} 对“{record_title}”提出异议，请在受理期限内处理。"),
)
register(
    "objection.needs_supplement",
    title=_("异议申请需要补正：{reference}"),
    body=_("信用中心要求您补正材料：{reason}。请在补正期限内提交，逾期将不予受理。"),
)
register(
    "objection.supplemented",
    title=_("补正材料已提交：{reference}"),
    body=_("您的补正材料已提交，受理期限自今日重新计算。"),
)
register(
    "objection.not_accepted",
    title=_("异议不予受理：{reference}"),
    body=_("您对“{record_title}”的异议不予受理。理由：{reason}。决定文书验证码：{code}"),
)
register(
    "objection.accepted",
    title=_("异议已受理：{reference}"),
    body=_("您对“{record_title}”的异议已受理，该信息已加注异议标注。"),
)
register(
    "objection.forwarded",
    title=_("异议已转信源单位核查：{reference}"),
    body=_("您的异议已转 {department} 核查。"),
)
register(
    "objection.forwarded_to_department",
    title=_("新的异议核查任务：{reference}"),
    body=_("{subject} 对本部门公示的“{record_title}”提出异议，请在核查期限内处理。"),
)
register(
    "objection.resolved",
    title=_("异议已办结：{reference}"),
    body=_(
        "您对“{record_title}”的异议已办结，处理结果：{outcome}。{reason} 决定文书验证码：{code}"
    ),
)
register(
    "objection.withdrawn",
    title=_("异议已撤回：{reference}"),
    body=_("您已撤回对“{record_title}”的异议。"),
)
register(
    "objection.lapsed",
    title=_("异议不予受理：{reference}"),
    body=_("您未在补正期限内补正“{record_title}”的异议材料，异议不予受理。"),
)
