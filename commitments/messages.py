"""Message codes of the commitment workflow (timeline entries and decision summaries)."""

from django.utils.translation import gettext_lazy as _

from workflow_app.cases.messages import register_labels, register_messages

from .models import Finding, Kind, MatterStatus, Status

register_labels("kind", Kind.choices)
register_labels("finding", Finding.choices)
register_labels("matter_status", MatterStatus.choices)
register_labels("commitment_status", Status.choices)

register_messages(
    {
        "commitment.signed": _("签署{kind}"),
        "commitment.repair_activated": _("信用修复（{repair}）获准，修复承诺生效"),
        "commitment.fulfilment_submitted": _("提交履约材料（{files} 个文件）"),
        "commitment.drawn": _("双随机抽查（第 {check} 次抽取）抽中，转部门核查"),
        "commitment.fulfilled": _("经核查已履约"),
        "commitment.breach_suspected": _("核查认定疑似违诺（{finding}），转主管审查"),
        "commitment.due_date_passed": _("履约期限 {due} 届满未确认履约，疑似违诺，转主管审查"),
        "commitment.lapsed": _("容缺补正期限 {due} 届满未补齐材料，承诺失效，事项终止办理"),
        "commitment.dismissed": _("主管驳回违诺认定，承诺恢复履约中"),
        "commitment.breach_confirmed": _("主管确认违诺，生成失信信息并实施相应约束"),
        "commitment.decision.breach_confirmed": _(
            "经审查，确认违背{kind}（{matter}）。认定意见：{reason}"
        ),
    }
)
