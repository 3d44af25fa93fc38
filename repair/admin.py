from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Evidence, Repair


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    can_delete = False
    readonly_fields = (
        "original_name",
        "content_type",
        "size",
        "sha256",
        "stage",
        "uploaded_by",
        "uploaded_at",
        "file",
    )

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Repair)
class RepairAdmin(SimpleHistoryAdmin):
    """Read-only: repairs change only through their services (the state machine)."""

    list_display = ("reference", "subject", "record", "status", "filed_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("reference", "subject__name", "subject__identifier_display")
    inlines = [EvidenceInline]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
