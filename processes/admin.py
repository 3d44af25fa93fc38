from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import CaseProcess, CaseTask, ExportLog


@admin.register(CaseTask)
class CaseTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "case_reference", "step_name", "queue_name", "status", "owner", "due_at")

    @admin.display(description=_("环节"), ordering="step")
    def step_name(self, obj: CaseTask) -> str:
        from .registry import step_label

        return str(step_label(obj.step))

    @admin.display(description=_("队列"), ordering="queue")
    def queue_name(self, obj: CaseTask) -> str:
        from .services import queue_label

        return queue_label(obj.queue) if obj.queue else "—"

    list_filter = ("status", "step", "queue")
    search_fields = ("case_reference",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CaseProcess)
class CaseProcessAdmin(CaseTaskAdmin):
    list_display = ("id", "case_kind", "case_id", "status", "created", "finished")
    list_filter = ("status", "case_kind")
    search_fields = ()


# viewflow registers admin pages for its own Process and Task tables, which this project does not
# use (its flows run on CaseProcess/CaseTask above); they would show as untranslated, empty lists.
def _unregister_viewflow_defaults() -> None:
    from viewflow.workflow.models import Process, Task

    for model in (Process, Task):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_viewflow_defaults()


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """Who exported what, when, with which filter and how many rows (read-only)."""

    list_display = ("at", "user", "what", "file_format", "rows", "filters")
    list_filter = ("what", "file_format")
    search_fields = ("user__username",)
    date_hierarchy = "at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
