"""Message codes of the red and black lists (audit timeline entries)."""

from django.utils.translation import gettext_lazy as _

from workflow_app.cases.messages import register_labels, register_messages

from .models import ListType, ReportAction

register_labels("list_type", ListType.choices)
register_labels("report_action", ReportAction.choices)

register_messages(
    {
        "creditlist.joined": _(
            "{department}决定列入{list_type}（{decision_reference}，{date}），"
            "应于 {report_due} 前报送国家平台"
        ),
        "creditlist.left": _(
            "{department}决定移出{list_type}（{decision_reference}，{date}），"
            "应于 {report_due} 前报送国家平台"
        ),
        "creditlist.reported": _(
            "{report_action}事项已于 {date} 报送国家平台（回执 {national_reference}）"
        ),
    }
)
