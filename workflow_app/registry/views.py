"""Public pages: credit report search and report, decision document verification."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from workflow_app.cases.hooks import report_row_actions, report_sections

from . import selectors
from .identifiers import lookup_candidates
from .models import CreditRecord


class ReportSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("统一社会信用代码或身份证号码"),
        max_length=64,
        help_text=gettext_lazy(
            "企业请输入18位统一社会信用代码；自然人只能查询本人的信用报告（需登录）。"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        lookup_candidates(value)  # raises ValidationError with the actionable message
        return value.strip()


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=40,
        help_text=gettext_lazy("决定文书上的16位验证码，例如 ABCD-EFGH-JKMN-PQRS。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


NOT_FOUND = gettext_lazy("未找到该主体的信用信息。请核对统一社会信用代码或身份证号码后重新查询。")
CODE_NOT_FOUND = gettext_lazy("未找到该验证码对应的决定文书，请核对后重新输入。")


def _report_url(subject: Any) -> str:
    # Natural persons are linked by their lookup key: a resident ID never goes into a URL.
    return reverse("report", args=[subject.identifier])


def report_search(request: HttpRequest) -> HttpResponse:
    """Search by identifier. POST keeps resident IDs out of URLs and logs; GET ?q= also works."""
    data = request.POST if request.method == "POST" else request.GET
    form = ReportSearchForm(data if "q" in data else None)
    not_found = False
    if form.is_bound and form.is_valid():
        subject = selectors.subject_by_identifier(form.cleaned_data["q"])
        if subject is not None and selectors.can_view_subject_report(request.user, subject):
            return redirect(_report_url(subject))
        not_found = True
    return render(
        request,
        "registry/report_search.html",
        {"form": form, "not_found_message": NOT_FOUND if not_found else ""},
    )


def report(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        lookup_candidates(identifier)
    except ValidationError as exc:
        form = ReportSearchForm(initial={"q": identifier})
        return render(
            request,
            "registry/report_search.html",
            {"form": form, "error_message": exc.messages[0]},
            status=400,
        )
    subject = selectors.subject_by_identifier(identifier)
    if subject is None or not selectors.can_view_subject_report(request.user, subject):
        raise Http404(str(NOT_FOUND))
    may_object = selectors.can_object_to(request.user, subject)
    records = list(selectors.report_records(subject))
    actions = report_row_actions(request.user, records) if may_object else {}
    # each choice's label once per request: get_FOO_display() rebuilds the field's whole
    # choices mapping, translating every label, on each call (a third of a 60-record page)
    labels = {
        name: {value: str(label) for value, label in CreditRecord._meta.get_field(name).flatchoices}
        for name in ("category", "nature", "severity")
    }
    rows = [
        {
            "record": record,
            "actions": actions.get(record.pk, []),
            **{
                name: labels[name].get(getattr(record, name), getattr(record, name))
                for name in labels
            },
        }
        for record in records
    ]
    return render(
        request,
        "registry/report.html",
        {
            "subject": subject,
            "rows": rows,
            "may_object": may_object,
            "sections": report_sections(subject, request.user),
        },
    )


def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        document = selectors.decision_by_code(form.cleaned_data["code"])
        if document is not None:
            return redirect("verify-detail", code=document.code)
        form.add_error("code", str(CODE_NOT_FOUND))
    return render(request, "registry/verify.html", {"form": form})


def verify_detail(request: HttpRequest, code: str) -> HttpResponse:
    document = selectors.decision_by_code(code)
    if document is None:
        form = VerifyForm(initial={"code": code})
        return render(
            request,
            "registry/verify.html",
            {"form": form, "error_message": str(CODE_NOT_FOUND)},
            status=404,
        )
    return render(
        request,
        "registry/verify_detail.html",
        {
            "document": document,
            "subject_name": selectors.decision_public_name(document),
            "decision_label": selectors.decision_label(document.decision),
            "summary": selectors.decision_summary(document),
            "in_force": document.status == document.Status.IN_FORCE,
        },
    )
