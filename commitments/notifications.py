"""Notification texts of the commitment workflow (Chinese source, English via locale/)."""

from django.utils.translation import gettext_lazy as _

from notifications.events import register

register(
    "commitment.signed",
    title=_("信用承诺已签署：{reference}"),
    body=_("您就“{matter_title}”签署的{kind}已生效，请按承诺履约。"),
)
register(
    "commitment.fulfilment_submitted",
    title=_("履约材料已提交：{reference}"),
    body=_("{subject} 就“{matter_title}”提交了履约材料，请核查。"),
)
register(
    "commitment.fulfilled",
    title=_("承诺已确认履约：{reference}"),
    body=_("您就“{matter_title}”作出的承诺经核查已履约。"),
)
register(
    "commitment.breach_suspected",
    title=_("承诺疑似违诺：{reference}"),
    body=_("您就“{matter_title}”作出的承诺经核查疑似未履行：{reason}。主管将进行审查。"),
)
register(
    "commitment.breach_review",
    title=_("违诺审查任务：{reference}"),
    body=_("{subject} 的承诺（{matter_title}）疑似违诺：{reason}。请在审查期限内处理。"),
)
register(
    "commitment.dismissed",
    title=_("违诺认定已驳回：{reference}"),
    body=_("“{matter_title}”的疑似违诺经审查驳回，承诺恢复履约中。{reason}"),
)
register(
    "commitment.breach_confirmed",
    title=_("违诺已确认：{reference}"),
    body=_("“{matter_title}”的违诺经审查确认，已记入信用记录。理由：{reason}"),
)
register(
    "commitment.lapsed",
    title=_("容缺受理承诺已失效：{reference}"),
    body=_("“{matter_title}”的补正期限已届满，未补齐材料，事项终止办理。"),
)
