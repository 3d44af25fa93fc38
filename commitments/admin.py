from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Commitment, CreditCheck, Evidence, RandomCheck


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("reference", "subject", "kind", "status", "department", "due_date", "signed_at")
    list_filter = ("kind", "status", "publicity", "department")
    search_fields = ("reference", "subject__name", "matter_reference", "matter_title")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("original_name", "commitment", "stage", "size", "uploaded_at")


@admin.register(RandomCheck)
class RandomCheckAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "started_at", "started_by", "department", "seed")


@admin.register(CreditCheck)
class CreditCheckAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("checked_at", "subject", "checked_by", "matter_reference", "feedback_measure")
    search_fields = ("subject__name", "matter_reference")
