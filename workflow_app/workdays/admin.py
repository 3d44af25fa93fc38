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
from .policy import (
    _KINDS,
    DEFAULTS,
    GRADES,
    PARAM_INFO,
    SEVERITIES,
    current_policy,
    policy_update,
    policy_validate,
)
from .services import calendar_day_delete, calendar_day_set, calendar_load, calendar_parse_csv


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


class CalendarUploadForm(forms.Form):
    file = forms.FileField(
        label=_("日历 CSV 文件"),
        help_text=_("表头 date,kind（可加 note 列）；kind 为 holiday 或 workday；UTF-8 编码。"),
    )
    source = forms.CharField(
        label=_("来源说明"),
        required=False,
        max_length=200,
        help_text=_("例如国务院办公厅通知文号；默认使用文件名。"),
    )


@admin.register(CalendarYear)
class CalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ("year", "source", "loaded_at")
    readonly_fields = ("loaded_at",)
    change_list_template = "admin/workdays/calendaryear/change_list.html"

    def get_urls(self) -> list[Any]:
        from django.urls import path

        custom = [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="workdays_calendaryear_upload",
            )
        ]
        return custom + super().get_urls()

    def upload_view(self, request: HttpRequest) -> Any:
        """Upload a year's official calendar as CSV: the same validation and service as the
        ``load_calendar`` command (every bad line named, nothing loaded if any is bad)."""
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = CalendarUploadForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                errors = [gettext("文件不是 UTF-8 编码，请另存为 UTF-8 后重试。")]
            else:
                entries, errors = calendar_parse_csv(text)
            if not errors:
                result = calendar_load(
                    entries=entries,
                    source=form.cleaned_data["source"] or upload.name,
                    by=request.user,
                )
                messages.success(
                    request,
                    gettext(
                        "已导入 %(years)s 年日历：新增 %(created)s 天，更新 %(updated)s 天，"
                        "未变 %(unchanged)s 天；重新计算临时期限 %(n)s 个。"
                    )
                    % {
                        "years": "、".join(str(y) for y in result.years),
                        "created": result.created,
                        "updated": result.updated,
                        "unchanged": result.unchanged,
                        "n": len(result.recomputed),
                    },
                )
                return redirect("admin:workdays_calendaryear_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("导入日历 CSV"),
            "form": form,
            "errors": errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/workdays/calendaryear/upload.html", context)

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


def _param_fields() -> list[tuple[str, str, forms.Field]]:
    """One form field per policy parameter (nested ones per severity or grade), each with its
    unit, default and source: ``(field name, parameter, field)``."""
    from workflow_app.registry.models import Category

    _version, current = current_policy()
    out: list[tuple[str, str, forms.Field]] = []
    for key, default in DEFAULTS.items():
        label, unit, source = PARAM_INFO.get(key, (key, "", ""))
        kind = _KINDS[key]
        value = current.get(key, default)
        help_text = format_html(
            "{}{}{}",
            f"{unit} · " if unit else "",
            gettext("默认：%(d)s") % {"d": json.dumps(default, ensure_ascii=False)},
            f" · {gettext('来源')}：{source}" if source else "",
        )
        if kind in ("severity_months", "ratios"):
            subkeys = SEVERITIES if kind == "severity_months" else GRADES
            for sub in subkeys:
                field: forms.Field = (
                    forms.IntegerField(min_value=0, max_value=1200)
                    if kind == "severity_months"
                    else forms.FloatField(min_value=0, max_value=1)
                )
                field.label = f"{label} · {sub}"
                field.initial = value.get(sub)
                field.help_text = help_text
                out.append((f"p__{key}__{sub}", key, field))
            continue
        if kind == "bool":
            field = forms.BooleanField(required=False, initial=value)
        elif kind == "categories":
            field = forms.MultipleChoiceField(
                choices=Category.choices,
                required=False,
                initial=value,
                widget=forms.CheckboxSelectMultiple,
            )
        elif kind == "factor":
            field = forms.FloatField(min_value=0, max_value=1, initial=value)
        elif kind == "severity":
            field = forms.ChoiceField(choices=[(s, s) for s in SEVERITIES], initial=value)
        else:
            field = forms.IntegerField(min_value=0, max_value=3650, initial=value)
        field.label = label
        field.help_text = help_text
        out.append((f"p__{key}", key, field))
    return out


class PolicyVersionForm(forms.ModelForm):
    """A new policy version: one field per parameter, prefilled with the values in force; only
    the ones changed are recorded as changes (and validated together)."""

    class Meta:
        model = PolicyVersion
        fields = ("effective_from", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._params = _param_fields()
        for name, _key, field in self._params:
            self.fields[name] = field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        _version, merged = current_policy(cleaned.get("effective_from"))
        wanted: dict[str, Any] = {}
        for name, key, _field in self._params:
            value = cleaned.get(name)
            if name.count("__") == 2:
                sub = name.rsplit("__", 1)[1]
                wanted.setdefault(key, dict(merged[key]))[sub] = value
            else:
                wanted[key] = list(value) if isinstance(value, (list, tuple)) else value
        changes = {k: v for k, v in wanted.items() if v != merged.get(k)}
        try:
            policy_validate(changes, merged={**merged, **changes})
        except forms.ValidationError:
            raise
        cleaned["changes"] = changes
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
            kwargs["fields"] = ("effective_from", "note")  # the parameter fields are the form's own
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ("current_params_display",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.fields
        return ("effective_from", "note", *[name for name, _k, _f in _param_fields()])

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
