from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Evidence, Objection


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


@admin.register(Objection)
class ObjectionAdmin(SimpleHistoryAdmin):
    """Read-only: objections change only through their services (the state machine)."""

    list_display = ("reference", "subject", "record", "status", "outcome", "filed_at")
    list_filter = ("status", "outcome", "grounds")
    search_fields = ("reference", "subject__name", "subject__identifier_display")
    inlines = [EvidenceInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # view only: no save buttons on a page where nothing can be saved

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
