"""Public pages: credit report search and report, decision document verification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow_app.cases.hooks import report_row_actions, report_sections
from workflow_app.rows import DASH, esc, labels, safe_rows, texts, truncate

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


def report_rows_html(rows: list[dict[str, Any]], *, may_object: bool) -> SafeString:
    """A report's record rows (``report``'s prepared rows) as text (workflow_app/rows.py): the
    title with its objection and version badges, the content (160 characters) and note;
    category, nature (its badge), severity, department, decision date, end of publicity, and
    the owner's actions."""
    l_title, l_category, l_nature, l_severity, l_dept, l_decided, l_end, l_actions = labels(
        _("标题"),
        _("类别"),
        _("性质"),
        _("严重程度"),
        _("信源单位"),
        _("决定日期"),
        _("公示截止"),
        _("操作"),
    )
    objected, note_label = labels(_("异议处理中"), _("说明："))
    nature_badge = {"dishonesty": "badge-danger", "positive": "badge-ok"}
    dash = f'<span class="muted">{DASH}</span>'
    out = []
    for row in rows:
        record = row["record"]
        title = esc(record.title)
        if record.under_objection:
            title += f' <span class="badge badge-warn">{objected}</span>'
        if record.version > 1:
            version = esc(_("已更正 · 第 %(v)s 版") % {"v": record.version})
            title += f' <span class="badge badge-muted">{version}</span>'
        if record.content:
            content = esc(truncate(record.content, 160))
            title += f'<div class="muted small record-content">{content}</div>'
        if record.note:
            title += f'<div class="muted small">{note_label}{esc(record.note)}</div>'
        badge = nature_badge.get(record.nature, "badge-muted")
        decided = record.decision_date.strftime("%Y-%m-%d") if record.decision_date else ""
        end = record.publicity_end.strftime("%Y-%m-%d") if record.publicity_end else ""
        cells = [
            f'<td data-label="{l_title}">{title}</td>',
            f'<td data-label="{l_category}">{esc(row["category"])}</td>',
            f'<td data-label="{l_nature}"><span class="badge {badge}">{esc(row["nature"])}</span></td>',
            f'<td data-label="{l_severity}">{esc(row["severity"]) if record.severity else dash}</td>',
            f'<td data-label="{l_dept}">{esc(record.department.display_name)}</td>',
            f'<td data-label="{l_decided}">{decided}</td>',
            f'<td data-label="{l_end}">{end or dash}</td>',
        ]
        if may_object:
            actions = "".join(
                f'<div class="muted small">{esc(a["label"])}</div>'
                if a["style"] == "note"
                else f'<div><a class="small" href="{esc(a["url"])}">{esc(a["label"])}</a></div>'
                if a["style"] == "link"
                else f'<a class="btn btn-small" href="{esc(a["url"])}">{esc(a["label"])}</a> '
                for a in row["actions"]
            )
            cells.append(f'<td data-label="{l_actions}" class="row-actions">{actions}</td>')
        out.append(f'<tr id="record-{record.pk}">{"".join(cells)}</tr>')
    return safe_rows(out)


_CHOICE_FIELDS = ("category", "nature", "severity")


def _record_choices(name: str) -> Callable[[], dict[Any, Any]]:
    return lambda: dict(CreditRecord._meta.get_field(name).flatchoices)


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
    # each choice's label as text once a language (workflow_app/rows.py): get_FOO_display()
    # rebuilds the field's whole choices mapping, translating every label, on each call (a
    # third of a 60-record page)
    labels = {name: texts(f"record-{name}", _record_choices(name)) for name in _CHOICE_FIELDS}
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
            "rows_html": report_rows_html(rows, may_object=may_object),
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
