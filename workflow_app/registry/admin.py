"""Administration of the registry.

Credit records and decision documents are read-only here: records change only through the
department push and the workflows (which version them), decisions only through their cases.
Subjects are registered with a validated identifier; a resident ID is hashed and masked on the
way in and never stored in clear.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .identifiers import subject_key
from .models import CreditRecord, DecisionDocument, Department, Subject


@admin.register(Department)
class DepartmentAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")

    def save_model(self, request: Any, obj: Department, form: Any, change: bool) -> None:
        obj._change_reason = "changed in admin" if change else "created in admin"  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)


class SubjectAddForm(forms.ModelForm):
    raw_identifier = forms.CharField(
        label=_("统一社会信用代码或身份证号码"),
        max_length=32,
        help_text=_("身份证号码只保存其密钥散列和脱敏形式，不保存原文。"),
    )

    class Meta:
        model = Subject
        fields = ("kind", "name", "grade")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, raw = data.get("kind"), data.get("raw_identifier")
        if kind and raw:
            try:
                key, display = subject_key(kind, raw)
            except ValidationError as exc:
                self.add_error("raw_identifier", exc)
                return data
            if Subject.objects.filter(identifier=key).exists():
                self.add_error("raw_identifier", _("该主体已登记，请勿重复添加。"))
            self.instance.identifier = key
            self.instance.identifier_display = display
        return data


@admin.register(Subject)
class SubjectAdmin(SimpleHistoryAdmin):
    list_display = ("name", "identifier_display", "kind", "grade", "red_list", "black_list")
    list_filter = ("kind", "grade", "red_list", "black_list")
    search_fields = ("name", "identifier_display", "=identifier")
    readonly_fields = ("identifier_display", "created_at")

    def get_form(self, request: Any, obj: Subject | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = SubjectAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: Any, obj: Subject | None = None) -> Any:
        if obj is None:
            return ("kind", "raw_identifier", "name", "grade")
        return (
            "kind",
            "identifier_display",
            "name",
            "grade",
            "red_list",
            "black_list",
            "created_at",
        )

    def get_readonly_fields(self, request: Any, obj: Subject | None = None) -> Any:
        if obj is None:
            return ()
        # the list flags follow the list entries (admin → 红黑名单), joined and left with a reason
        return ("kind", "identifier_display", "red_list", "black_list", "created_at")

    def save_model(self, request: Any, obj: Subject, form: Any, change: bool) -> None:
        obj._change_reason = "changed in admin" if change else "registered in admin"  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CreditRecord)
class CreditRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "subject",
        "department",
        "category",
        "nature",
        "severity",
        "status",
        "under_objection",
        "version",
        "decision_date",
    )
    list_filter = ("status", "category", "nature", "severity", "under_objection", "department")
    search_fields = ("title", "external_id", "subject__name", "subject__identifier_display")
    list_select_related = ("subject", "department")
    date_hierarchy = "decision_date"
    raw_id_fields = ("subject", "previous_version")


@admin.register(DecisionDocument)
class DecisionDocumentAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "case_reference", "subject", "decision", "status", "issued_at")
    list_filter = ("status", "case_kind", "decision")
    search_fields = ("code", "case_reference", "subject__name")
    list_select_related = ("subject",)
