"""Message codes of the repair workflow (timeline entries and decision summaries)."""

from django.utils.translation import gettext_lazy as _

from workflow_app.cases.messages import register_labels, register_messages

from .models import Status

register_labels("repair_status", Status.choices)

register_messages(
    {
        "repair.submitted": _("提交信用修复申请，申请条件审查通过"),
        "repair.supplement_requested": _("要求补正材料"),
        "repair.supplemented": _("提交补正材料（{files} 个文件），办理期限重新计算"),
        "repair.lapsed": _("补正期限届满未补正，不予修复"),
        "repair.routed": _("转{department}作出修复决定"),
        "repair.rejected": _("不予修复"),
        "repair.approved": _("准予信用修复，该信息停止公示"),
        "repair.withdrawn": _("申请人撤回修复申请"),
        "repair.revoked": _("撤销信用修复决定，该信息恢复公示至 {publicity_end}"),
        "repair.decision.approved": _(
            "准予信用修复：“{record_title}”自决定之日起停止公示。{reason}"
        ),
        "repair.decision.rejected": _("不予信用修复。理由：{reason}"),
        "repair.decision.lapsed": _("申请人未在补正期限内补正，不予信用修复。"),
    }
)
