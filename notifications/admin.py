from django.contrib import admin

from .models import Delivery, Notification


class ReadOnly(admin.ModelAdmin):
    """Rows are written by the services only. Delete stays allowed: deleting a user in the admin
    must be able to remove that user's inbox and outbox rows (they cascade)."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("event", "recipient", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "event")
    search_fields = ("event_key", "recipient__username")


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("title", "recipient", "event", "created_at", "read_at")
    list_filter = ("event",)
    search_fields = ("title", "recipient__username")
