"""Message codes of the objection workflow (timeline entries and decision summaries), rendered
in the reader's language by :func:`workflow_app.cases.messages.render_message`."""

from django.utils.translation import gettext_lazy as _

from workflow_app.cases.messages import register_labels, register_messages

from .models import Grounds, Outcome, Status

register_labels("outcome", Outcome.choices)
register_labels("grounds", Grounds.choices)
register_labels("objection_status", Status.choices)

register_messages(
    {
        "objection.submitted": _("提交异议申请"),
        "objection.supplement_requested": _("要求补正材料"),
        "objection.supplemented": _("提交补正材料（{files} 个文件），受理期限重新计算"),
        "objection.lapsed": _("补正期限届满未补正，不予受理"),
        "objection.refused": _("不予受理"),
        "objection.accepted": _("受理异议，信息加注异议标注"),
        "objection.forwarded": _("转{department}核查"),
        "objection.resolved": _("办结，处理结果：{outcome}"),
        "objection.withdrawn": _("申请人撤回异议"),
        "objection.decision.lapsed": _("申请人未在补正期限内补正，异议不予受理。"),
        "objection.decision.refused": _("异议不予受理。理由：{reason}"),
        "objection.decision.resolved": _("处理结果：{outcome}。{reason}"),
        "objection.decision.modified": _("处理结果：{outcome}。{reason} 更正后的内容：{content}"),
    }
)
