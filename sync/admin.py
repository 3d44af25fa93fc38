from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import SyncEvent, SyncTarget


@admin.register(SyncTarget)
class SyncTargetAdmin(SimpleHistoryAdmin):
    list_display = ("name", "url", "masked_token", "enabled", "created_at")
    list_filter = ("enabled",)

    @admin.display(description="token")
    def masked_token(self, obj: SyncTarget) -> str:
        return f"{obj.token[:4]}…" if obj.token else "—"


@admin.register(SyncEvent)
class SyncEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "target", "status", "attempts", "due_at", "delivered_at")
    list_filter = ("status", "target", "event")
    search_fields = ("idempotency_key",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
