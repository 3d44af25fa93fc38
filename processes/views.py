"""Portal pages of every case kind: the applicant's filing, case list and case page, and the
caseworkers' queue and task pages. One view per page, dispatched through the case-kind registry.

Views validate input, call one service, and show the service's message when it refuses.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from commitments.models import CreditCheck, Publicity, RandomCheck
from commitments.models import Kind as CommitmentKind
from commitments.selectors import credit_check_result, random_check_drawn
from commitments.services import (
    MEASURES,
    commitment_exclusion,
    commitment_submit_fulfilment,
    credit_check,
    credit_check_feedback,
    liability_text,
    random_check_replay,
)
from commitments.services import text_template as commitment_text_template
from objections.models import Grounds
from objections.selectors import objection_open_for_records
from repair.selectors import open_repairs_for_records, repair_eligibility
from repair.services import commitment_template, repair_revoke
from workflow_app.accounts.models import User
from workflow_app.accounts.selectors import queue_members
from workflow_app.api import ServiceError
from workflow_app.paging import CappedPaginator
from workflow_app.registry.identifiers import lookup_candidates
from workflow_app.registry.models import CreditRecord, Department, RecordStatus
from workflow_app.registry.selectors import departments_all, subject_by_identifier
from workflow_app.rows import DASH, esc, labels, minute_texts, safe_rows, texts, truncate
from workflow_app.textsearch import planned_for_the_text
from workflow_app.workdays.calendar import explain

from . import services
from .exports import export_cases, export_queue
from .models import CaseTask
from .registry import CaseKind, all_steps, kind, kinds
from .selectors import (
    SORTS,
    case_list_queryset,
    open_task_for_case,
    soon_threshold,
    task_as_dict,
    task_queue_for,
    task_queue_page,
)


class PortalForm(forms.Form):
    """Chinese labels take no ASCII colon; required fields are marked (CSS ``.required``)."""

    label_suffix = ""
    required_css_class = "required"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def _files_field(label: Any, required: bool = False) -> MultipleFileField:
    return MultipleFileField(
        label=label,
        required=required,
        help_text=gettext_lazy("PDF、JPG 或 PNG，单个文件不超过 10 MB，可多选。"),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class ObjectionForm(PortalForm):
    grounds = forms.ChoiceField(label=gettext_lazy("异议理由"), choices=Grounds.choices)
    description = forms.CharField(
        label=gettext_lazy("异议说明"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy("请说明该信息哪里有误、应当如何更正，以及依据。"),
    )
    evidence = _files_field(gettext_lazy("证明材料"))
    commitment_accepted = forms.BooleanField(
        label=gettext_lazy(
            "我承诺：所提异议及材料真实、合法、有效，如有虚假，愿承担相应法律责任（异议承诺）。"
        ),
        error_messages={"required": gettext_lazy("提出异议须签署异议承诺。")},
    )


class RepairForm(PortalForm):
    correction_statement = forms.CharField(
        label=gettext_lazy("纠正失信行为说明"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy(
            "说明已如何纠正失信行为、履行了哪些义务（如已缴清罚款、已完成整改）。"
        ),
    )
    evidence = _files_field(gettext_lazy("纠正失信行为的证明材料"))
    commitment_text = forms.CharField(
        label=gettext_lazy("信用修复承诺书"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy("已按模板预填，请阅读并确认；可补充具体承诺事项。"),
    )
    commitment_accepted = forms.BooleanField(
        label=gettext_lazy(
            "我已阅读并签署上述信用修复承诺，知悉违背承诺将被撤销修复决定并重新公示。"
        ),
        error_messages={"required": gettext_lazy("申请信用修复须签署信用修复承诺。")},
    )


class SupplementForm(PortalForm):
    text = forms.CharField(
        label=gettext_lazy("补正说明"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    evidence = _files_field(gettext_lazy("补正材料"))


def _service_errors(request: HttpRequest, form: forms.Form | None, exc: ServiceError) -> None:
    placed = False
    if form is not None:
        for err in exc.errors:
            field = err.get("field")
            if field in form.fields:
                form.add_error(field, err["message"])
                placed = True
    if not placed:
        messages.error(request, exc.message)


def _int(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() else 0


def _own_record(request: HttpRequest, *, what: str) -> CreditRecord | None:
    user = request.user
    if user.role != "applicant" or not user.subject_id:  # type: ignore[union-attr]
        messages.error(request, _("只有已关联企业的申请人可以%(what)s。") % {"what": what})
        return None
    record_id = _int(request.GET.get("record") or request.POST.get("record"))
    return (
        CreditRecord.objects.select_related("department")
        .filter(pk=record_id, subject_id=user.subject_id)  # type: ignore[union-attr]
        .first()
    )


def _report_url(request: HttpRequest) -> str:
    subject = getattr(request.user, "subject", None)
    return reverse("report", args=[subject.identifier]) if subject else reverse("home")


# --- applicant: filing ----------------------------------------------------------------------------


@login_required
def objection_new(request: HttpRequest) -> HttpResponse:
    record = _own_record(request, what=_("提出异议"))
    if record is None:
        if request.user.role == "applicant":  # type: ignore[union-attr]
            messages.info(
                request, _("请在本企业的信用报告中选择要提出异议的信息，点击“提出异议”。")
            )
            return redirect(_report_url(request))
        return redirect("home")
    form = ObjectionForm(request.POST or None, request.FILES or None)
    existing = objection_open_for_records(record.subject_id, [record]).get(record.pk)
    existing_url = reverse("objection-detail", args=[existing.pk]) if existing else ""
    if request.method == "POST" and form.is_valid():
        try:
            objection = services.case_file(
                "objection",
                applicant=request.user,
                record_id=record.pk,
                grounds=form.cleaned_data["grounds"],
                description=form.cleaned_data["description"],
                commitment_accepted=form.cleaned_data["commitment_accepted"],
                files=form.cleaned_data["evidence"],
            )
        except ServiceError as exc:
            _service_errors(request, form, exc)
            if exc.code == "duplicate_open":
                existing = objection_open_for_records(record.subject_id, [record]).get(record.pk)
                existing_url = reverse("objection-detail", args=[existing.pk]) if existing else ""
        else:
            messages.success(
                request, _("异议已提交，案件编号 %(ref)s。") % {"ref": objection.reference}
            )
            return redirect("objection-detail", pk=objection.pk)
    return render(
        request,
        "processes/objection_new.html",
        {
            "form": form,
            "record": record,
            "published": record.status == RecordStatus.PUBLISHED,
            "existing_url": existing_url,
        },
    )


@login_required
def repair_new(request: HttpRequest) -> HttpResponse:
    record = _own_record(request, what=_("申请信用修复"))
    if record is None:
        if request.user.role == "applicant":  # type: ignore[union-attr]
            messages.info(
                request, _("请在本企业的信用报告中选择要修复的失信信息，点击“申请信用修复”。")
            )
            return redirect(_report_url(request))
        return redirect("home")
    form = RepairForm(
        request.POST or None,
        request.FILES or None,
        initial={"commitment_text": commitment_template()},
    )
    rules = repair_eligibility(subject_id=record.subject_id, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            repair = services.case_file(
                "repair",
                applicant=request.user,
                record_id=record.pk,
                correction_statement=form.cleaned_data["correction_statement"],
                commitment_text=form.cleaned_data["commitment_text"],
                commitment_accepted=form.cleaned_data["commitment_accepted"],
                files=form.cleaned_data["evidence"],
            )
        except ServiceError as exc:
            if exc.code == "ineligible":
                for err in exc.errors:
                    field = {
                        "proof_missing": "evidence",
                        "commitment_missing": "commitment_accepted",
                    }.get(err.get("rule", ""))
                    if field:
                        form.add_error(field, err["message"])
                    else:
                        messages.error(request, err["message"])
            else:
                _service_errors(request, form, exc)
            if request.FILES:
                messages.warning(request, _("出于安全原因，已选择的文件需要重新选择后再提交。"))
        else:
            messages.success(
                request, _("信用修复申请已提交，案件编号 %(ref)s。") % {"ref": repair.reference}
            )
            return redirect("repair-detail", pk=repair.pk)
    blocking = [r for r in rules if not r.ok]
    existing = open_repairs_for_records(record.subject_id, [record]).get(record.pk)
    return render(
        request,
        "processes/repair_new.html",
        {
            "form": form,
            "record": record,
            "rules": rules,
            "blocking": blocking,
            "existing_url": reverse("repair-detail", args=[existing.pk]) if existing else "",
        },
    )


# --- applicant and staff: case pages ------------------------------------------------------------

EVENT_LABELS = {
    "escalation": gettext_lazy("逾期上报主管"),
    "reminder": gettext_lazy("到期提醒"),
    "assignment": gettext_lazy("任务认领与分派"),
    "deadline": gettext_lazy("期限重算"),
    "note": gettext_lazy("补充材料"),
}


def _dt(value: str | None) -> Any:
    return datetime.datetime.fromisoformat(value) if value else None


def _kind_or_404(code: str) -> CaseKind:
    try:
        return kind(code)
    except LookupError:
        raise Http404


def case_context(request: HttpRequest, k: CaseKind, case: Any) -> dict[str, Any]:
    data = k.as_dict(case, viewer=request.user)
    labels = k.status_labels()
    data["deadlines"] = sorted(data["deadlines"], key=lambda d: d["due_at"])
    for d in data["deadlines"]:
        d["text"] = explain(d["basis"]) if d.get("basis") else ""
        d["kind_label"] = k.deadline_labels.get(d["kind"], d["kind"])
        d["status_label"] = d["state_label"]
        d["due"] = _dt(d["due_at"])
    if data["deadline"]:
        data["deadline"]["due"] = _dt(data["deadline"]["due_at"])
        data["deadline"]["kind_label"] = k.deadline_labels.get(
            data["deadline"]["kind"], data["deadline"]["kind"]
        )
    for e in data["timeline"]:
        e["at_dt"] = _dt(e["at"])
        e["from_label"] = labels.get(e["from"], e["from"])
        e["to_label"] = labels.get(e["to"], e["to"])
        e["event_label"] = EVENT_LABELS.get(e["event"], "")
    task = open_task_for_case(k.code, case.pk)
    user = request.user
    return {
        "k": k,
        "o": case,
        "data": data,
        "record": case.record,
        "open_task": task if task and services.user_may_view(user, task) else None,  # type: ignore[arg-type]
        "is_owner": case.applicant_id == user.pk,
        "is_open": k.is_open(case),
        "can_withdraw": k.withdraw is not None and k.is_open(case),
        "can_add_evidence": k.add_evidence is not None
        and k.is_open(case)
        and not k.needs_supplement(case),
        "needs_supplement": k.needs_supplement(case),
        "supplement_form": SupplementForm(),
        "evidence_url": f"{k.code}-evidence",
        **k.page_context(request, case),
    }


CASE_LIST_PAGE = 25
CASE_LIST_COUNT_CAP = 5_000  # 200 pages; past that the list says "more than" (filters narrow it)


@login_required
def case_list(request: HttpRequest, kind_code: str) -> HttpResponse:
    """Every case of a kind the user may see — completed ones included — with search (reference,
    subject code or name) and filters (status, department)."""
    k = _kind_or_404(kind_code)
    with planned_for_the_text(request.GET.get("q", "")):
        return _case_list_page(request, k)


def _case_list_page(request: HttpRequest, k: CaseKind) -> HttpResponse:
    qs, applied = case_list_queryset(k, request.user, request.GET)
    status, q, department = (applied.get(f, "") for f in ("status", "q", "department"))
    page = CappedPaginator(qs, CASE_LIST_PAGE, cap=CASE_LIST_COUNT_CAP).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    staff = request.user.is_staff_member  # type: ignore[union-attr]
    return render(
        request,
        "processes/case_list.html",
        {
            "k": k,
            "page": page,
            "rows_html": case_rows_html(k, page.object_list, staff=staff),
            "status": status,
            "statuses": k.status_texts(),
            "q": q,
            "department": department,
            "departments": departments_all(),
            "query": params.urlencode(),
            "filed_from": applied.get("filed_from", ""),
            "filed_to": applied.get("filed_to", ""),
            "overdue": bool(applied.get("overdue")),
            "can_export": staff,
        },
    )


def _url_before_id(name: str) -> str:
    """The URL of the page ``name`` (``…/<int:id>/``) up to its id, reversed once a page: a row
    appends ``f"{id}/"``."""
    return reverse(name, args=[0])[:-2]


def case_rows_html(k: CaseKind, cases: Any, *, staff: bool) -> SafeString:
    """A case list page's rows (workflow_app/rows.py), read as the few columns they show — no
    model instances of the case, its subject and its record with every column (JSON
    included): reference and link, the subject's name (staff), the record's title (a
    commitment's matter), the status badge (open or not) and the filing time."""
    filed, title_fields = k.filed_field, k.list_title
    columns = ["pk", "reference", "status", filed, *title_fields]
    rows = cases.values(*columns, "subject__name") if staff else cases.values(*columns)
    detail_url = _url_before_id(k.detail_url_name)
    statuses = k.status_texts()
    open_statuses = set(k.open_statuses)
    minute = minute_texts()
    out = []
    for row in rows:
        status = row["status"]
        title = next((row[f] for f in title_fields if row[f]), "")
        badge = "badge-warn" if status in open_statuses else "badge-muted"
        subject = f"<td>{esc(row['subject__name'])}</td>" if staff else ""
        filed_at = minute(row[filed])
        out.append(
            f'<tr><td><a href="{detail_url}{row["pk"]}/">{esc(row["reference"])}</a></td>'
            f"{subject}<td>{esc(title)}</td>"
            f'<td><span class="badge {badge}" data-status="{esc(status)}">'
            f"{esc(statuses.get(status, status))}</span></td><td>{filed_at}</td></tr>"
        )
    return safe_rows(out)


@login_required
def case_export(request: HttpRequest, kind_code: str, file_format: str) -> HttpResponse:
    """The case list as filtered, as CSV or XLSX, for staff; recorded in the export log."""
    k = _kind_or_404(kind_code)
    if not request.user.is_staff_member or file_format not in ("csv", "xlsx"):  # type: ignore[union-attr]
        raise Http404
    qs, applied = case_list_queryset(k, request.user, request.GET)
    return export_cases(k, qs, user=request.user, filters=applied, file_format=file_format)


@login_required
def queue_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The caller's queue as filtered on the queue page (every row, not one page)."""
    _staff_required(request)
    if file_format not in ("csv", "xlsx"):
        raise Http404
    f = _queue_filters(request)
    qs = task_queue_for(
        request.user,
        kind=f["kind"] or None,
        step=f["step"] or None,
        department=f["department"] or None,
        due=f["due"] or None,
        mine=f["mine"] == "1",
    )
    applied = {k: v for k, v in f.items() if v and k != "sort"}
    return export_queue(qs, user=request.user, filters=applied, file_format=file_format)


@login_required
def case_detail(request: HttpRequest, kind_code: str, pk: int) -> HttpResponse:
    k = _kind_or_404(kind_code)
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    return render(request, "processes/case_detail.html", case_context(request, k, case))


@login_required
@require_POST
def case_withdraw(request: HttpRequest, kind_code: str, pk: int) -> HttpResponse:
    k = _kind_or_404(kind_code)
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    try:
        services.case_withdrawn(
            k.code,
            case=case,
            by=request.user,
            reason=request.POST.get("reason", ""),  # type: ignore[arg-type]
        )
        messages.success(request, _("申请已撤回。"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(k.detail_url_name, pk=pk)


@login_required
@require_POST
def case_supplement(request: HttpRequest, kind_code: str, pk: int) -> HttpResponse:
    k = _kind_or_404(kind_code)
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    form = SupplementForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.case_supplement_given(
                k.code,
                case=case,
                by=request.user,  # type: ignore[arg-type]
                text=form.cleaned_data["text"],
                files=form.cleaned_data["evidence"],
            )
            messages.success(request, _("补正材料已提交，办理期限自今日重新计算。"))
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(
            request,
            _("补正内容有误：%(errors)s")
            % {"errors": "; ".join(str(e) for e in form.errors.values())},
        )
    return redirect(k.detail_url_name, pk=pk)


@login_required
@require_POST
def case_add_evidence(request: HttpRequest, kind_code: str, pk: int) -> HttpResponse:
    k = _kind_or_404(kind_code)
    if k.add_evidence is None:
        raise Http404
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    form = SupplementForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            rows = k.add_evidence(case=case, by=request.user, files=form.cleaned_data["evidence"])
            messages.success(request, _("已补充 %(n)d 份材料。") % {"n": len(rows)})
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(str(e) for e in form.errors.values()))
    return redirect(k.detail_url_name, pk=pk)


@login_required
def evidence_download(
    request: HttpRequest, kind_code: str, pk: int, evidence_id: int
) -> HttpResponse:
    k = _kind_or_404(kind_code)
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    evidence = get_object_or_404(case.evidence, pk=evidence_id)
    if not evidence.stored:
        raise Http404(_("该材料的文件尚未保存完成或已丢失，请联系信用中心。"))
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=False,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )


@login_required
@require_POST
def repair_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    k = kind("repair")
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    try:
        repair_revoke(repair=case, by=request.user, reason=request.POST.get("reason", ""))  # type: ignore[arg-type]
        messages.success(request, _("信用修复决定已撤销，该信息恢复公示。"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("repair-detail", pk=pk)


# --- caseworkers --------------------------------------------------------------------------------


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_authenticated or not request.user.is_staff_member:  # type: ignore[union-attr]
        raise Http404


def _queue_filters(request: HttpRequest) -> dict[str, str]:
    """The queue page's filters as given (unknown ``due`` and ``sort`` values dropped); the queue
    export reads the same ones."""
    f = {k: request.GET.get(k, "") for k in ("kind", "step", "department", "due", "mine", "sort")}
    if f["due"] not in ("overdue", "soon"):
        f["due"] = ""
    if f["sort"] not in SORTS:
        f["sort"] = ""
    return f


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    f = _queue_filters(request)
    try:
        page_no = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_no = 1
    per_page = 50
    tasks, more = task_queue_page(
        request.user,
        offset=(page_no - 1) * per_page,
        limit=per_page,
        kind=f["kind"] or None,
        step=f["step"] or None,
        department=f["department"] or None,
        due=f["due"] or None,
        mine=f["mine"] == "1",
        sort=f["sort"] or "due",
    )
    now = timezone.now()
    soon = soon_threshold(now)
    params = request.GET.copy()
    params.pop("page", None)
    page = {
        "number": page_no,
        "has_previous": page_no > 1,
        "has_next": more,
        "previous_page_number": page_no - 1,
        "next_page_number": page_no + 1,
        "query": params.urlencode(),
    }
    # Rows are prepared here (one reverse, labels and dates formatted once) so that rendering
    # 50 rows stays cheap; see bench/run.py.
    detail_url = _url_before_id("task-detail")
    steps = texts("steps", all_steps)
    status_labels = {k.code: k.status_texts() for k in kinds()}
    minute = minute_texts()
    rows = []
    for t in tasks:
        row = task_as_dict(t, now=now, soon=soon)
        row["step_label"] = steps.get(t.step, t.step)
        row["due_text"] = minute(t.due_at)
        row["url"] = f"{detail_url}{t.pk}/"
        row["case_status_label"] = status_labels.get(t.case_kind, {}).get(
            t.case_status, t.case_status
        )
        row["department_name"] = t.department.display_name if t.department_id else ""  # type: ignore[union-attr]
        rows.append(row)
    assignees = _assignee_groups({t.queue for t in tasks}) if request.user.is_supervisor else []  # type: ignore[union-attr]
    sort_params = request.GET.copy()
    sort_params.pop("page", None)
    sort_params.pop("sort", None)
    return render(
        request,
        "processes/queue.html",
        {
            "page": page,
            "rows_html": queue_rows_html(rows, checkboxes=bool(assignees)),
            "filters": f,
            "steps": steps,
            "kinds": texts("kinds", lambda: {k.code: k.label for k in kinds()}).items(),
            "departments": departments_all(),
            "assignees": assignees,
            "sort_query": sort_params.urlencode(),
        },
    )


def queue_rows_html(rows: list[dict[str, Any]], *, checkboxes: bool) -> SafeString:
    """The queue table's rows (``queue``'s prepared rows) as text (workflow_app/rows.py): the
    overdue / due-soon class, a supervisor's checkbox, reference and link, step, subject,
    record (40 characters), department, case status, due date with its badge, holder."""
    l_ref, l_step, l_subject, l_record, l_dept, l_status, l_due, l_assignee, overdue, soon, go = (
        labels(
            _("案件编号"),
            _("环节"),
            _("申请主体"),
            _("所涉信息"),
            _("部门"),
            _("案件状态"),
            _("截止时间"),
            _("办理人"),
            _("已逾期"),
            _("即将到期"),
            _("办理"),
        )
    )
    out = []
    for t in rows:
        url, ref = esc(t["url"]), esc(t["reference"])
        row_class = "row-overdue" if t["overdue"] else "row-soon" if t["due_soon"] else ""
        badge = (
            f'<span class="badge badge-danger">{overdue}</span>'
            if t["overdue"]
            else f'<span class="badge badge-warn">{soon}</span>'
            if t["due_soon"]
            else ""
        )
        box = (
            f'<td><input type="checkbox" name="tasks" value="{esc(t["id"])}" '
            f'aria-label="{ref}"></td>'
            if checkboxes
            else ""
        )
        out.append(
            f'<tr class="{row_class}">{box}'
            f'<td data-label="{l_ref}"><a href="{url}">{ref}</a></td>'
            f'<td data-label="{l_step}">{esc(t["step_label"])}</td>'
            f'<td data-label="{l_subject}">{esc(t["subject"] or DASH)}</td>'
            f'<td data-label="{l_record}">{esc(truncate(t["record"] or DASH, 40))}</td>'
            f'<td data-label="{l_dept}">{esc(t["department_name"] or DASH)}</td>'
            f'<td data-label="{l_status}">{esc(t["case_status_label"] or DASH)}</td>'
            f'<td data-label="{l_due}">{esc(t["due_text"])} {badge}</td>'
            f'<td data-label="{l_assignee}">{esc(t["assignee"] or DASH)}</td>'
            f'<td><a class="btn btn-small" href="{url}">{go}</a></td></tr>'
        )
    return safe_rows(out)


RELEASE = "__release__"


def _assignee_groups(queues: set[str]) -> list[tuple[str, list[User]]]:
    """The people each shown task's group can be given to, one group per queue (supervisors
    choose within a task's own group; the service refuses anyone else)."""
    groups: list[tuple[str, list[User]]] = []
    for q in sorted(q for q in queues if q):
        users = sorted(queue_members(q), key=lambda u: (u.username.casefold(), u.username))
        if users:
            groups.append((services.queue_label(q), users))
    return groups


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_page(request, task_id)


def _task_page(
    request: HttpRequest,
    task_id: int,
    posted: Any = None,
    field_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    _staff_required(request)
    task = get_object_or_404(CaseTask.objects.select_related("owner", "completed_by"), pk=task_id)
    if not services.user_may_view(request.user, task):  # type: ignore[arg-type]
        raise Http404
    k = _kind_or_404(task.case_kind)
    case = get_object_or_404(k.model, pk=task.case_id)
    ctx = case_context(request, k, case)
    step = k.step(task.step)
    decisions = list(step.decisions.values()) if step else []
    ctx.update(
        {
            "task": task,
            "task_info": task_as_dict(task),
            "step_label": step.label if step else task.step,
            "decisions": decisions,
            "outcomes": list(step.outcomes) if step else [],
            "is_open": task.status in ("NEW", "ASSIGNED"),
            "may_act": services.user_may_act(request.user, task),  # type: ignore[arg-type]
            "held_by_other": bool(task.owner_id and task.owner_id != request.user.pk),
            "posted": posted or {},
            "field_errors": field_errors or {},
            "files_note": bool(posted),
        }
    )
    return render(request, "processes/task_detail.html", ctx, status=status)


def _completion_message(task: CaseTask, decision: str) -> str:
    """What was decided and where the case went."""
    k = kind(task.case_kind)
    step = k.step(task.step)
    choice = step.decisions.get(decision) if step else None
    case = k.load(task.case_id)
    text = _("已办理 %(ref)s：%(decision)s。案件状态：%(status)s。") % {
        "ref": task.case_reference,
        "decision": choice.label if choice else decision,
        "status": case.get_status_display(),
    }
    nxt = open_task_for_case(k.code, task.case_id)
    if nxt is not None:
        nxt_step = k.step(nxt.step)
        text += " " + _("下一环节：%(step)s（%(queue)s）。") % {
            "step": nxt_step.label if nxt_step else nxt.step,
            "queue": services.queue_label(nxt.queue),
        }
    else:
        text += " " + _("流程已办结或等待申请人。")
    return text


@login_required
@require_POST
def task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    _staff_required(request)
    user = request.user
    try:
        if action == "claim":
            services.task_claim(task_id=task_id, user=user)  # type: ignore[arg-type]
            messages.success(request, _("已认领任务。"))
        elif action == "release":
            services.task_release(task_id=task_id, user=user)  # type: ignore[arg-type]
            messages.success(request, _("已释放任务，任务退回队列。"))
            return redirect("queue")
        elif action == "complete":
            decision = request.POST.get("decision", "")
            data = {k: request.POST.get(k, "") for k in ("reason", "outcome", "content")}
            try:
                task = services.task_complete(
                    task_id=task_id,
                    user=user,  # type: ignore[arg-type]
                    decision=decision,
                    data={k: v for k, v in data.items() if v},
                )
            except ServiceError as exc:
                if exc.status_code == 400:
                    # show the form again with what was typed, and the message by its field
                    errors = {e.get("field", ""): e.get("message", "") for e in exc.errors}
                    if not errors:
                        messages.error(request, exc.message)
                    return _task_page(request, task_id, request.POST, errors, status=400)
                raise
            messages.success(request, _completion_message(task, decision))
            return redirect(kind(task.case_kind).detail_url_name, pk=task.case_id)
        else:
            raise Http404
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("task-detail", task_id=task_id)


@login_required
@require_POST
def queue_assign(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    ids = [int(i) for i in request.POST.getlist("tasks") if i.isascii() and i.isdigit()]
    if not ids:
        messages.error(request, _("请先勾选要分派的任务。"))
        return redirect("queue")
    username = request.POST.get("assignee", "")
    if not username:
        messages.error(request, _("请选择要分派给谁，或选择“收回，退回队列”。"))
        return redirect("queue")
    if username == RELEASE:
        username = ""
    assignee = User.objects.filter(username=username).first() if username else None
    if username and assignee is None:
        messages.error(request, _("用户不存在：%(u)s") % {"u": username})
        return redirect("queue")
    try:
        done = services.task_assign(task_ids=ids, assignee=assignee, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("已分派 %(n)d 个任务。") % {"n": len(done)})
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("queue")


# --- commitments ----------------------------------------------------------------------------------


class CommitmentForm(PortalForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("承诺类型"),
        choices=[
            (k.value, k.label)
            for k in (
                CommitmentKind.NOTIFICATION,
                CommitmentKind.DEFICIENCY,
                CommitmentKind.VOLUNTARY,
            )
        ],
        help_text=gettext_lazy(
            "告知承诺：以承诺代替证明材料；容缺受理：约定期限内补齐欠缺材料；主动承诺：自愿作出。"
        ),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("受理部门"),
        queryset=Department.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("（主动承诺可不选）"),
    )
    matter_reference = forms.CharField(
        label=gettext_lazy("审批事项受理编号"), max_length=60, required=False
    )
    matter_title = forms.CharField(label=gettext_lazy("事项名称"), max_length=200)
    text = forms.CharField(
        label=gettext_lazy("承诺内容"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy("已按所选类型预填模板，请核对并补充具体承诺事项。"),
    )
    due_date = forms.DateField(
        label=gettext_lazy("履约期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("容缺受理承诺必填：补齐材料的最后一天。"),
    )
    publicity = forms.ChoiceField(
        label=gettext_lazy("公开范围"), choices=Publicity.choices, initial=Publicity.PUBLIC
    )
    evidence = _files_field(gettext_lazy("附件"))
    commitment_accepted = forms.BooleanField(
        label=gettext_lazy("我已阅读承诺内容和违诺责任，自愿签署本承诺书。"),
        error_messages={"required": gettext_lazy("请确认已阅读承诺内容和违诺责任并签署。")},
    )


class FulfilmentForm(PortalForm):
    note = forms.CharField(
        label=gettext_lazy("履约说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    evidence = _files_field(gettext_lazy("履约材料"))


def commitment_page_context(request: HttpRequest, case: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {"fulfilment_form": FulfilmentForm()}
    if getattr(request.user, "is_staff_member", False):
        ctx["history"] = credit_check_result(case.subject)
    return ctx


@login_required
def commitment_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role != "applicant" or not user.subject_id:  # type: ignore[union-attr]
        messages.error(request, _("只有已关联企业的申请人可以签署信用承诺。"))
        return redirect("home")
    kind_code = request.POST.get("kind") or request.GET.get("kind") or CommitmentKind.NOTIFICATION
    initial = {
        "kind": kind_code,
        "text": commitment_text_template(kind_code),
        "department": request.GET.get("department", ""),
    }
    form = CommitmentForm(request.POST or None, request.FILES or None, initial=initial)
    excluded = commitment_exclusion(user.subject)  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            c = services.case_file(
                "commitment",
                applicant=user,
                kind=d["kind"],
                department=d["department"].code if d["department"] else None,
                matter_reference=d["matter_reference"],
                matter_title=d["matter_title"],
                text=d["text"],
                publicity=d["publicity"],
                due_date=d["due_date"],
                commitment_accepted=d["commitment_accepted"],
                files=d["evidence"],
            )
        except ServiceError as exc:
            _service_errors(request, form, exc)
            if request.FILES:
                messages.warning(request, _("出于安全原因，已选择的文件需要重新选择后再提交。"))
        else:
            messages.success(request, _("承诺已签署，承诺编号 %(ref)s。") % {"ref": c.reference})
            return redirect("commitment-detail", pk=c.pk)
    return render(
        request,
        "processes/commitment_new.html",
        {
            "form": form,
            "excluded": excluded,
            "liability": {k: liability_text(k) for k in CommitmentKind.values},
            "templates": {k: commitment_text_template(k) for k in CommitmentKind.values},
        },
    )


@login_required
@require_POST
def commitment_fulfilment(request: HttpRequest, pk: int) -> HttpResponse:
    k = kind("commitment")
    case = get_object_or_404(k.visible_to(request.user), pk=pk)
    form = FulfilmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            commitment_submit_fulfilment(
                commitment=case,
                by=request.user,  # type: ignore[arg-type]
                note=form.cleaned_data["note"],
                files=form.cleaned_data["evidence"],
            )
            messages.success(request, _("履约材料已提交，部门将进行核查。"))
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(str(e) for e in form.errors.values()))
    return redirect("commitment-detail", pk=pk)


def _supervisor_required(request: HttpRequest) -> None:
    if not request.user.is_authenticated or not request.user.is_supervisor:  # type: ignore[union-attr]
        raise Http404


@login_required
def random_checks(request: HttpRequest) -> HttpResponse:
    _supervisor_required(request)
    if request.method == "POST":
        code = request.POST.get("department", "")
        department = Department.objects.filter(code=code).first() if code else None
        seed_text = request.POST.get("seed", "").strip()
        seed = int(seed_text) if seed_text.isascii() and seed_text.isdigit() else None
        if seed_text and seed is None:
            messages.error(request, _("随机种子应为非负整数，或留空由系统生成。"))
            return redirect("random-checks")
        try:
            check = services.random_check_start(by=request.user, department=department, seed=seed)  # type: ignore[arg-type]
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("random-checks")
        messages.success(
            request,
            _("已抽取 %(n)d 项承诺（范围 %(pop)d 项），核查任务已分派。")
            % {"n": len(check.drawn), "pop": len(check.population)},
        )
        return redirect("random-check-detail", pk=check.pk)
    return render(
        request,
        "processes/random_checks.html",
        {
            "checks": RandomCheck.objects.select_related("started_by", "department")[:50],
            "departments": departments_all(),
        },
    )


@login_required
def random_check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _supervisor_required(request)
    check = get_object_or_404(RandomCheck.objects.select_related("started_by", "department"), pk=pk)
    replay = random_check_replay(check) if request.GET.get("replay") else None
    drawn = random_check_drawn(check.drawn)
    ratios = check.ratios or {}
    by_grade = [
        f"{grade} {float(share) * 100:g}%"
        for grade, share in (ratios.get("random_check_ratio") or {}).items()
    ]
    return render(
        request,
        "processes/random_check_detail.html",
        {
            "check": check,
            "drawn": drawn,
            "replay": replay,
            "population": len(check.population),
            "ratios_by_grade": " · ".join(by_grade),
            "red_list_factor": ratios.get("red_list_check_factor"),
        },
    )


@login_required
def credit_check_page(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    identifier = (request.GET.get("q") or "").strip()
    result = None
    error = ""
    if identifier:
        try:
            lookup_candidates(identifier)
        except DjangoValidationError as exc:
            error = exc.messages[0]
        else:
            subject = subject_by_identifier(identifier)
            if subject is None:
                error = _("未找到该主体，请核对统一社会信用代码或身份证号。")
            else:
                result = credit_check_result(subject)
                check = credit_check(
                    subject=subject,
                    by=request.user,  # type: ignore[arg-type]
                    matter_reference=request.GET.get("matter_reference", ""),
                    result=result,
                )
                result["check_id"] = check.pk
    if request.method == "POST":
        check = get_object_or_404(CreditCheck, pk=_int(request.POST.get("check")))
        try:
            credit_check_feedback(
                check=check,
                by=request.user,  # type: ignore[arg-type]
                measure=request.POST.get("measure", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("已记录采取的措施。"))
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("credit-check")
    return render(
        request,
        "processes/credit_check.html",
        {
            "q": identifier,
            "result": result,
            "error": error,
            "measures": MEASURES,
            "recent": CreditCheck.objects.select_related("subject", "checked_by")[:20],
        },
    )
