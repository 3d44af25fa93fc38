from django.contrib import admin

from .models import AuditChain, TransitionLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is append-only: nobody adds, changes or deletes entries through the admin."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ("chain_key", "seq", "event", "from_state", "to_state", "actor_label", "at")
    list_filter = ("case_kind", "event")
    search_fields = ("chain_key", "actor_label", "reason")


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdmin):
    list_display = ("key", "length", "head_hash")
    search_fields = ("key",)
