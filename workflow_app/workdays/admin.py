"""Admin for the calendar, policy versions and (read-only) deadlines.

Every write goes through the services in ``services.py`` / ``policy.py`` so that history reasons,
cache invalidation and validation are the same as from the command line.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .calendar import explain, invalidate_cache
from .models import CalendarDay, CalendarYear, Deadline, PolicyVersion
from .policy import current_policy, policy_update, policy_validate
from .services import calendar_day_delete, calendar_day_set


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ("date", "kind", "note")
    list_filter = ("kind",)
    search_fields = ("note",)
    date_hierarchy = "date"
    ordering = ("-date",)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = calendar_day_set(
            day=obj.date,
            kind=obj.kind,
            note=obj.note,
            by=request.user,
            reason=gettext("管理员在后台修改"),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_day_delete(calendar_day=obj, by=request.user, reason=gettext("管理员在后台删除"))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            calendar_day_delete(
                calendar_day=obj, by=request.user, reason=gettext("管理员在后台删除")
            )


@admin.register(CalendarYear)
class CalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ("year", "source", "loaded_at")
    readonly_fields = ("loaded_at",)

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        obj._change_reason = gettext("管理员在后台修改")  # type: ignore[attr-defined]
        obj._history_user = request.user  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        invalidate_cache()

    def delete_model(self, request: HttpRequest, obj: CalendarYear) -> None:
        obj._change_reason = gettext("管理员在后台删除")  # type: ignore[attr-defined]
        obj._history_user = request.user  # type: ignore[attr-defined]
        super().delete_model(request, obj)
        invalidate_cache()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class PolicyVersionForm(forms.ModelForm):
    changes = forms.JSONField(
        label=_("修改的参数（JSON）"),
        help_text=_(
            '只需填写要修改的参数，例如 {"objection_verification_days": 15}；其余沿用现行值。'
        ),
        initial=dict,
    )

    class Meta:
        model = PolicyVersion
        fields = ("effective_from", "note")

    def clean_changes(self) -> dict[str, Any]:
        changes = self.cleaned_data.get("changes") or {}
        policy_validate(changes)
        return changes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        changes = cleaned.get("changes")
        if changes is not None and not self.errors:
            _version, merged = current_policy(cleaned.get("effective_from"))
            merged.update(changes)
            policy_validate(changes, merged=merged)
        return cleaned


@admin.register(PolicyVersion)
class PolicyVersionAdmin(SimpleHistoryAdmin):
    list_display = ("id", "effective_from", "note", "created_by", "created_at")
    readonly_fields = ("effective_from", "note", "created_by", "created_at", "params_display")
    fields = readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = PolicyVersionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ("current_params_display",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.fields
        return ("effective_from", "note", "changes", "current_params_display")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Versions are immutable; viewing them stays possible through the view permission.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("参数"))
    def params_display(self, obj: PolicyVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.params, ensure_ascii=False, indent=2))

    @admin.display(description=_("现行参数"))
    def current_params_display(self, obj: Any = None) -> str:
        _version, params = current_policy()
        return format_html("<pre>{}</pre>", json.dumps(params, ensure_ascii=False, indent=2))

    def save_model(self, request: HttpRequest, obj: PolicyVersion, form: Any, change: bool) -> None:
        version = policy_update(
            params=form.cleaned_data.get("changes") or {},
            by=request.user,
            note=obj.note,
            effective_from=obj.effective_from,
        )
        obj.pk = version.pk
        obj.params = version.params


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = (
        "case_kind",
        "case_id",
        "case_reference",
        "kind",
        "due_at",
        "provisional",
        "status",
        "queue",
        "assignee",
    )
    list_filter = ("status", "provisional", "case_kind", "kind")
    search_fields = ("case_reference",)
    date_hierarchy = "due_at"
    readonly_fields = ("explanation",)

    @admin.display(description=_("计算方式"))
    def explanation(self, obj: Deadline) -> str:
        return explain(obj.basis)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields] + ["explanation"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
