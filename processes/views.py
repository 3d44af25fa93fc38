"""Portal pages: the applicant's objection pages and the caseworkers' queue and task pages.

Views validate input, call one service, and show the service's message when it refuses.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from objections.models import Grounds, Objection, Outcome
from objections.selectors import objection_as_dict, objections_visible_to
from workflow_app.accounts.models import User
from workflow_app.api import ServiceError
from workflow_app.registry.models import CreditRecord, RecordStatus
from workflow_app.workdays.calendar import explain

from . import services
from .models import CaseTask
from .selectors import open_task_for_case, soon_threshold, task_as_dict, task_queue_page


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ObjectionForm(forms.Form):
    grounds = forms.ChoiceField(label=gettext_lazy("异议理由"), choices=Grounds.choices)
    description = forms.CharField(
        label=gettext_lazy("异议说明"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy("请说明该信息哪里有误、应当如何更正，以及依据。"),
    )
    evidence = MultipleFileField(
        label=gettext_lazy("证明材料"),
        required=False,
        help_text=gettext_lazy("PDF、JPG 或 PNG，单个文件不超过 10 MB，可多选。"),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    commitment_accepted = forms.BooleanField(
        label=gettext_lazy(
            "我承诺：所提异议及材料真实、合法、有效，如有虚假，愿承担相应法律责任（异议承诺）。"
        ),
        error_messages={"required": gettext_lazy("提出异议须签署异议承诺。")},
    )


class SupplementForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("补正说明"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    evidence = MultipleFileField(
        label=gettext_lazy("补正材料"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


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


# --- applicant ----------------------------------------------------------------------------------


@login_required
def objection_list(request: HttpRequest) -> HttpResponse:
    qs = objections_visible_to(request.user).order_by("-filed_at")
    status = request.GET.get("status")
    if status:
        qs = qs.filter(status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "processes/objection_list.html", {"page": page, "status": status})


@login_required
def objection_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role != "applicant" or not user.subject_id:  # type: ignore[union-attr]
        messages.error(request, _("只有已关联企业的申请人可以提出异议。"))
        return redirect("home")
    record_id = request.GET.get("record") or request.POST.get("record")
    record = (
        CreditRecord.objects.select_related("department")
        .filter(
            pk=int(record_id) if str(record_id).isascii() and str(record_id).isdigit() else 0,
            subject_id=user.subject_id,
        )  # type: ignore[union-attr]
        .first()
    )
    if record is None:
        messages.error(request, _("请从本企业的信用报告中选择要提出异议的信息。"))
        return redirect("home")
    form = ObjectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            objection = services.objection_file(
                applicant=user,
                record_id=record.pk,
                grounds=form.cleaned_data["grounds"],
                description=form.cleaned_data["description"],
                commitment_accepted=form.cleaned_data["commitment_accepted"],
                files=form.cleaned_data["evidence"],
            )
        except ServiceError as exc:
            _service_errors(request, form, exc)
        else:
            messages.success(
                request, _("异议已提交，案件编号 %(ref)s。") % {"ref": objection.reference}
            )
            return redirect("objection-detail", pk=objection.pk)
    return render(
        request,
        "processes/objection_new.html",
        {"form": form, "record": record, "published": record.status == RecordStatus.PUBLISHED},
    )


DEADLINE_STATUS = {
    "open": gettext_lazy("进行中"),
    "met": gettext_lazy("已按期完成"),
    "stopped": gettext_lazy("已中止（等待补正）"),
    "cancelled": gettext_lazy("已取消"),
    "lapsed": gettext_lazy("已届满"),
}
EVENT_LABELS = {
    "escalation": gettext_lazy("逾期上报主管"),
    "reminder": gettext_lazy("到期提醒"),
    "assignment": gettext_lazy("任务分派"),
    "deadline": gettext_lazy("期限重算"),
}


def _dt(value: str | None) -> Any:
    import datetime

    return datetime.datetime.fromisoformat(value) if value else None


def _detail_context(request: HttpRequest, objection: Objection) -> dict[str, Any]:
    from objections.models import Status

    data = objection_as_dict(objection)
    labels = dict(Status.choices)
    for d in data["deadlines"]:
        d["text"] = explain(d["basis"]) if d.get("basis") else ""
        d["kind_label"] = services.DEADLINE_LABELS.get(d["kind"], d["kind"])
        d["status_label"] = DEADLINE_STATUS.get(d["status"], d["status"])
        d["due"] = _dt(d["due_at"])
    if data["deadline"]:
        data["deadline"]["due"] = _dt(data["deadline"]["due_at"])
    staff = getattr(request.user, "is_staff_member", False)
    timeline = []
    for e in data["timeline"]:
        if e["event"] == "assignment" and not staff:
            continue  # internal queue handling is shown to staff only
        e["at_dt"] = _dt(e["at"])
        e["from_label"] = labels.get(e["from"], e["from"])
        e["to_label"] = labels.get(e["to"], e["to"])
        e["event_label"] = EVENT_LABELS.get(e["event"], "")
        timeline.append(e)
    data["timeline"] = timeline
    task = open_task_for_case("objection", objection.pk)
    user = request.user
    return {
        "o": objection,
        "data": data,
        "record": objection.record,
        "result_record": objection.result_record,
        "open_task": task if task and services.user_can_work(user, task) else None,  # type: ignore[arg-type]
        "is_owner": objection.applicant_id == user.pk,
        "supplement_form": SupplementForm(),
    }


@login_required
def objection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(objections_visible_to(request.user), pk=pk)
    return render(request, "processes/objection_detail.html", _detail_context(request, objection))


@login_required
@require_POST
def objection_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(objections_visible_to(request.user), pk=pk)
    try:
        services.objection_withdrawn(
            objection=objection,
            by=request.user,
            reason=request.POST.get("reason", ""),  # type: ignore[arg-type]
        )
        messages.success(request, _("异议已撤回。"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("objection-detail", pk=pk)


@login_required
@require_POST
def objection_supplement(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(objections_visible_to(request.user), pk=pk)
    form = SupplementForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.objection_supplement_given(
                objection=objection,
                by=request.user,  # type: ignore[arg-type]
                text=form.cleaned_data["text"],
                files=form.cleaned_data["evidence"],
            )
            messages.success(request, _("补正材料已提交，受理期限自今日重新计算。"))
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(
            request,
            _("补正内容有误：%(errors)s")
            % {"errors": "; ".join(str(e) for e in form.errors.values())},
        )
    return redirect("objection-detail", pk=pk)


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    objection = get_object_or_404(objections_visible_to(request.user), pk=pk)
    evidence = get_object_or_404(objection.evidence, pk=evidence_id)
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=False,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )


# --- caseworkers --------------------------------------------------------------------------------

STEP_LABELS = {
    "objection_intake": gettext_lazy("异议受理"),
    "objection_platform_check": gettext_lazy("平台核查"),
    "objection_verification": gettext_lazy("信源单位核查"),
}

DECISION_LABELS = {
    "accept": gettext_lazy("受理"),
    "not_accept": gettext_lazy("不予受理"),
    "request_supplement": gettext_lazy("要求补正"),
    "forward": gettext_lazy("转信源单位核查"),
    "resolve": gettext_lazy("办结"),
}


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_authenticated or not request.user.is_staff_member:  # type: ignore[union-attr]
        raise Http404


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    f = {k: request.GET.get(k, "") for k in ("kind", "step", "department", "due", "mine")}
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
        due=f["due"] if f["due"] in ("overdue", "soon") else None,
        mine=f["mine"] == "1",
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
    detail_url = reverse("task-detail", args=[0])[:-2]
    rows = []
    for t in tasks:
        row = task_as_dict(t, now=now, soon=soon)
        row["step_label"] = STEP_LABELS.get(t.step, t.step)
        row["due_text"] = (
            timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M") if t.due_at else ""
        )
        row["url"] = f"{detail_url}{t.pk}/"
        rows.append(row)
    assignees = (
        User.objects.filter(role__in=["centre", "department"], is_active=True)
        .select_related("department")
        .order_by("role", "username")
        if request.user.is_supervisor  # type: ignore[union-attr]
        else []
    )
    from workflow_app.registry.models import Department

    return render(
        request,
        "processes/queue.html",
        {
            "page": page,
            "rows": rows,
            "filters": f,
            "steps": STEP_LABELS,
            "departments": Department.objects.all(),
            "assignees": assignees,
        },
    )


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    _staff_required(request)
    task = get_object_or_404(CaseTask.objects.select_related("owner", "completed_by"), pk=task_id)
    if not services.user_can_work(request.user, task):  # type: ignore[arg-type]
        raise Http404
    objection = get_object_or_404(Objection, pk=task.case_id)
    ctx = _detail_context(request, objection)
    decisions = list(services.STEP_DECISIONS.get(task.step, {}))
    outcomes = (
        [Outcome.MODIFIED, Outcome.DELETED]
        if task.step == "objection_platform_check"
        else list(Outcome)
    )
    ctx.update(
        {
            "task": task,
            "task_info": task_as_dict(task),
            "step_label": STEP_LABELS.get(task.step, task.step),
            "decisions": [(d, DECISION_LABELS.get(d, d)) for d in decisions],
            "outcomes": [(o.value, o.label) for o in outcomes],
            "is_open": task.status in ("NEW", "ASSIGNED"),
            "held_by_other": bool(task.owner_id and task.owner_id != request.user.pk),
        }
    )
    return render(request, "processes/task_detail.html", ctx)


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
            data = {k: request.POST.get(k, "") for k in ("reason", "outcome", "content")}
            services.task_complete(
                task_id=task_id,
                user=user,  # type: ignore[arg-type]
                decision=request.POST.get("decision", ""),
                data={k: v for k, v in data.items() if v},
            )
            messages.success(request, _("办理完成。"))
            return redirect("queue")
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
