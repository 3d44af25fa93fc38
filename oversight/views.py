"""The supervisors' dashboard (page and API) and the lists behind its figures."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow_app.api import Forbidden, ServiceError
from workflow_app.paging import CappedPaginator
from workflow_app.registry.models import Department
from workflow_app.workdays.deadlines import deadline_states

from . import charts, selectors


def _scope_or_error(request: HttpRequest) -> tuple[selectors.Scope | None, str]:
    try:
        return selectors.dashboard_scope(request.user, request.GET), ""
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except ServiceError as exc:
        return None, exc.message


def _filter_context(request: HttpRequest, scope: selectors.Scope | None) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "departments": Department.objects.order_by("code"),
        "date_from": scope.date_from.isoformat() if scope else request.GET.get("date_from", ""),
        "date_to": scope.date_to.isoformat() if scope else request.GET.get("date_to", today),
        "department": scope.department if scope else None,
        "department_locked": scope.department_locked if scope else False,
        "query": _query(scope),
    }


def _query(scope: selectors.Scope | None) -> str:
    from urllib.parse import urlencode

    return urlencode(scope.as_params()) if scope else ""


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope, error = _scope_or_error(request)
    context = _filter_context(request, scope)
    if scope is None:
        context["error_message"] = error
        return render(request, "oversight/dashboard.html", context, status=400)
    data = selectors.dashboard(scope)
    context.update(
        {
            "data": data,
            "charts": {
                "age": charts.stacked_bars(
                    [(w["label"], w["overdue_age"]) for w in data["workflows"]],
                    data["age_buckets"],
                ),
                "weekly": {w["kind"]: charts.weekly_bars(w["weekly"]) for w in data["workflows"]},
            },
        }
    )
    return render(request, "oversight/dashboard.html", context)


LIST_COUNT_CAP = 5_000  # 100 pages; past that the page says "more than" (as the case lists)


def _paged(request: HttpRequest, qs: Any, per_page: int = 50) -> Any:
    return CappedPaginator(qs, per_page, cap=LIST_COUNT_CAP).get_page(request.GET.get("page"))


def _page_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


STATE_TITLES = {
    "open": gettext_lazy("办理中的环节"),
    "overdue": gettext_lazy("已逾期的环节"),
    "due_soon": gettext_lazy("即将到期的环节"),
    "late": gettext_lazy("逾期完成的环节"),
    "on_time": gettext_lazy("按期完成的环节"),
}


def _scoped_list(template: str) -> Callable[..., Any]:
    """A list behind a dashboard figure: the dashboard's scope (checked the same way: a bad
    date or department re-renders the page with the message and 400), paging, then the
    view's own context."""

    def wrap(fn: Callable[[HttpRequest, selectors.Scope], dict[str, Any]]) -> Any:
        @login_required
        @wraps(fn)
        def view(request: HttpRequest) -> HttpResponse:
            scope, error = _scope_or_error(request)
            context = _filter_context(request, scope)
            if scope is None:
                context["error_message"] = error
                return render(request, template, context, status=400)
            context["page_query"] = _page_query(request)
            context.update(fn(request, scope))
            return render(request, template, context)

        return view

    return wrap


STEP_FILTERS = ("kind", "step", "state", "age")


@_scoped_list("oversight/steps.html")
def steps(request: HttpRequest, scope: selectors.Scope) -> dict[str, Any]:
    """The steps behind a figure: open, overdue (by age), due soon, completed late or on time."""
    now = timezone.now()
    qs, state = selectors.steps_queryset(scope, request.GET, now=now)
    page = _paged(request, qs)
    labels = selectors.kind_labels()
    deadlines = list(page)
    states = deadline_states(deadlines, now)
    kind_code = request.GET.get("kind") or ""
    k, step_labels = labels.get(kind_code, (None, {}))
    return {
        "page": page,
        "rows": [
            selectors.step_as_dict(d, labels, state=st)
            for d, st in zip(deadlines, states, strict=True)
        ],
        "state": state,
        "title": str(STATE_TITLES.get(state, "")),
        "kind_label": str(k.label) if k is not None else _("全部业务"),
        "step_label": step_labels.get(request.GET.get("step", ""), ""),
        "age": request.GET.get("age", ""),
        # a new date range or department keeps what the list is of
        "extra_fields": [(f, request.GET[f]) for f in STEP_FILTERS if request.GET.get(f)],
    }


@_scoped_list("oversight/publicity.html")
def late_publicity(request: HttpRequest, scope: selectors.Scope) -> dict[str, Any]:
    """双公示 records pushed later than the allowed working days after their decision."""
    page = _paged(request, selectors.late_publicity_queryset(scope))
    return {
        "page": page,
        "rows": [
            {"record": r, "working_days": selectors.publicity_working_days(r)}
            for r in page.object_list
        ],
        "days_allowed": selectors.publicity_days_allowed(),
    }


@_scoped_list("oversight/sync.html")
def sync_overdue(request: HttpRequest, scope: selectors.Scope) -> dict[str, Any]:
    """Synchronisation rows past their deadline and not yet delivered."""
    page = _paged(request, selectors.sync_overdue_queryset(scope))
    return {"page": page, "rows": selectors.sync_overdue_rows(list(page))}


@_scoped_list("oversight/national_reports.html")
def national_reports_overdue(request: HttpRequest, scope: selectors.Scope) -> dict[str, Any]:
    """Red/black list actions not reported to the national platform within their period."""
    today = timezone.localdate()
    page = _paged(request, selectors.national_reports_overdue(scope, today=today))
    return {
        "page": page,
        "rows": [
            {"report": r, "days_late": selectors.working_days_since(r.due_date, today)}
            for r in page.object_list
        ],
    }


class DashboardAPI(APIView):
    @extend_schema(
        summary="Supervisors' dashboard: open, overdue and on-time figures of every workflow "
        "and department, 双公示 timeliness, synchronisation and national list reports",
        description=(
            "Figures of the range (date_from … date_to): steps completed, cases filed, 双公示 "
            "pushes, national reports made on time or late (national_reports.reported_on_time "
            "/ reported_late). As of now whatever the range: open and overdue steps, "
            "undelivered synchronisation, national reports pending or overdue."
        ),
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="YYYY-MM-DD"),
            OpenApiParameter(
                "department",
                str,
                description="department code (a department caseworker always sees their own)",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        scope = selectors.dashboard_scope(request.user, request.query_params)
        return Response(selectors.dashboard(scope))
