"""Administration of the red and black lists.

Entries and national reports are read-only here, with their history. Joining, leaving and
recording a report go through the same services as the API (checks, history, subject flag,
audit entry), by three small forms: "add" on the entry list, "leave" on an active entry, and
"record report" on an open national report.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from workflow_app.api import ServiceError
from workflow_app.registry.identifiers import validate_uscc
from workflow_app.registry.models import Department, Subject, SubjectKind

from . import services
from .models import EntryStatus, ListEntry, ListType, NationalReport

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class JoinForm(forms.Form):
    identifier = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=32)
    list_type = forms.ChoiceField(label=gettext_lazy("名单"), choices=ListType.choices)
    department = forms.ModelChoiceField(
        label=gettext_lazy("认定单位"), queryset=Department.objects.order_by("code")
    )
    reason = forms.CharField(
        label=gettext_lazy("列入理由"), widget=forms.Textarea, max_length=services.MAX_TEXT
    )
    decision_reference = forms.CharField(
        label=gettext_lazy("列入决定文号"), max_length=services.MAX_REFERENCE
    )
    joined_on = forms.DateField(label=gettext_lazy("列入日期"), widget=DATE_INPUT)

    def clean_identifier(self) -> Subject:
        code = validate_uscc(self.cleaned_data["identifier"])
        subject = Subject.objects.filter(identifier=code).first()
        if subject is None:
            raise ValidationError(
                _("未找到统一社会信用代码为 %(code)s 的主体，请先登记该主体。") % {"code": code}
            )
        if subject.kind != SubjectKind.LEGAL_PERSON:
            raise ValidationError(_("红黑名单只列入法人和非法人组织，自然人不能列入。"))
        return subject


class LeaveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("移出理由"), widget=forms.Textarea, max_length=services.MAX_TEXT
    )
    decision_reference = forms.CharField(
        label=gettext_lazy("移出决定文号"), max_length=services.MAX_REFERENCE
    )
    left_on = forms.DateField(label=gettext_lazy("移出日期"), widget=DATE_INPUT)


class ReportForm(forms.Form):
    reported_on = forms.DateField(label=gettext_lazy("报送日期"), widget=DATE_INPUT)
    national_reference = forms.CharField(
        label=gettext_lazy("国家平台回执编号"), max_length=services.MAX_REFERENCE
    )


def _apply_error(form: forms.Form, exc: ServiceError) -> None:
    """Show a service's refusal on the form: on its field when the form has it."""
    placed = False
    for error in exc.errors:
        field = error.get("field")
        if field in form.fields:
            form.add_error(field, error.get("message") or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _may_act(self, request: HttpRequest) -> bool:
        return request.user.has_perm("creditlists.add_listentry")

    def _action_page(
        self,
        request: HttpRequest,
        form: forms.Form,
        *,
        title: str,
        submit_label: str,
        description: str = "",
        original: Any = None,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "submit_label": submit_label,
            "description": description,
            "original": original,
        }
        return TemplateResponse(request, "admin/creditlists/action_form.html", context)


class NationalReportInline(admin.TabularInline):
    model = NationalReport
    extra = 0
    can_delete = False
    fields = ("action", "action_date", "due_date", "reported_on", "national_reference", "record")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("报送"))
    def record(self, obj: NationalReport) -> str:
        if obj.reported_on is not None:
            return "—"
        url = reverse("admin:creditlists_nationalreport_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("登记报送"))


@admin.register(ListEntry)
class ListEntryAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "subject",
        "list_type",
        "status",
        "department",
        "joined_on",
        "decision_reference",
        "left_on",
    )
    list_filter = ("list_type", "status", "department", "joined_on")
    search_fields = (
        "subject__name",
        "subject__identifier_display",
        "decision_reference",
        "leave_decision_reference",
    )
    list_select_related = ("subject", "department")
    date_hierarchy = "joined_on"
    fields = (
        "subject",
        "list_type",
        "status",
        "department",
        "reason",
        "decision_reference",
        "joined_on",
        "joined_by",
        "joined_at",
        "left_on",
        "leave_reason",
        "leave_decision_reference",
        "left_by",
        "left_at",
        "leave_link",
    )
    readonly_fields = fields
    inlines = [NationalReportInline]

    @admin.display(description=gettext_lazy("移出"))
    def leave_link(self, obj: ListEntry) -> str:
        if obj.status != EntryStatus.ACTIVE:
            return "—"
        url = reverse("admin:creditlists_listentry_leave", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("移出名单"))

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:pk>/leave/",
                self.admin_site.admin_view(self.leave_view),
                name="creditlists_listentry_leave",
            )
        ]
        return extra + super().get_urls()

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = JoinForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.list_join(
                    subject=data["identifier"],
                    list_type=data["list_type"],
                    department=data["department"],
                    reason=data["reason"],
                    decision_reference=data["decision_reference"],
                    joined_on=data["joined_on"],
                    by=request.user,
                )
            except ServiceError as exc:
                _apply_error(form, exc)
            else:
                self.log_addition(request, entry, [{"added": {}}])
                self.message_user(
                    request,
                    _("已列入%(list)s。") % {"list": entry.get_list_type_display()},
                    messages.SUCCESS,
                )
                return redirect("admin:creditlists_listentry_change", entry.pk)
        return self._action_page(
            request,
            form,
            title=_("列入红黑名单"),
            submit_label=_("列入"),
            description=_("列入后将按政策参数计算向国家平台报送的截止日期，并记入审计日志。"),
        )

    def leave_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self._may_act(request):
            raise PermissionDenied
        entry = ListEntry.objects.select_related("subject", "department").filter(pk=pk).first()
        if entry is None:
            return redirect("admin:creditlists_listentry_changelist")
        form = LeaveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.list_leave(entry=entry, by=request.user, **form.cleaned_data)
            except ServiceError as exc:
                _apply_error(form, exc)
            else:
                self.log_change(request, entry, [{"changed": {"fields": ["status"]}}])
                self.message_user(request, _("已移出名单。"), messages.SUCCESS)
                return redirect("admin:creditlists_listentry_change", entry.pk)
        return self._action_page(
            request,
            form,
            title=_("移出名单"),
            submit_label=_("移出"),
            description=str(entry),
            original=entry,
        )


@admin.register(NationalReport)
class NationalReportAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "subject",
        "list_type",
        "action",
        "department",
        "action_date",
        "due_date",
        "reported_on",
        "national_reference",
        "record",
    )
    list_filter = ("list_type", "action", "department", ("reported_on", admin.EmptyFieldListFilter))
    search_fields = ("subject__name", "subject__identifier_display", "national_reference")
    list_select_related = ("subject", "department")
    date_hierarchy = "due_date"
    fields = (
        "entry",
        "subject",
        "list_type",
        "action",
        "department",
        "action_date",
        "days",
        "due_date",
        "provisional",
        "basis",
        "reported_on",
        "national_reference",
        "reported_by",
        "recorded_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=gettext_lazy("报送"))
    def record(self, obj: NationalReport) -> str:
        if obj.reported_on is not None:
            return "—"
        url = reverse("admin:creditlists_nationalreport_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("登记报送"))

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:pk>/report/",
                self.admin_site.admin_view(self.report_view),
                name="creditlists_nationalreport_report",
            )
        ]
        return extra + super().get_urls()

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self._may_act(request):
            raise PermissionDenied
        report = NationalReport.objects.select_related("subject").filter(pk=pk).first()
        if report is None:
            return redirect("admin:creditlists_nationalreport_changelist")
        form = ReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.list_report_national(report=report, by=request.user, **form.cleaned_data)
            except ServiceError as exc:
                _apply_error(form, exc)
            else:
                self.log_change(request, report, [{"changed": {"fields": ["reported_on"]}}])
                self.message_user(request, _("已登记向国家平台报送。"), messages.SUCCESS)
                return redirect("admin:creditlists_nationalreport_changelist")
        return self._action_page(
            request,
            form,
            title=_("登记向国家平台报送"),
            submit_label=_("登记"),
            description=_("%(report)s，应于 %(due)s 前报送。")
            % {"report": report, "due": report.due_date.isoformat()},
            original=report,
        )
