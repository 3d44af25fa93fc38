"""REST endpoints of every case kind and of the task queues (SPEC §12).

Each registered case kind gets the same endpoints — list/file, detail, withdraw, supplement —
from :func:`case_endpoints`; views validate input, call one service and render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commitments.models import Kind as CommitmentKind
from commitments.models import RandomCheck
from commitments.services import commitment_submit_fulfilment, random_check_replay
from objections.models import Grounds, Outcome
from repair.selectors import repair_eligibility
from repair.services import repair_revoke
from workflow_app.accounts.models import User
from workflow_app.api import ServiceError
from workflow_app.cases.selectors import case_deadlines
from workflow_app.parsers import JSONParser
from workflow_app.registry.models import CreditRecord, Department

from . import services
from .registry import CaseKind, kind
from .selectors import SORTS, soon_threshold, task_as_dict, task_queue_page


def _files(request: Request, name: str = "evidence") -> list[Any]:
    return list(request.FILES.getlist(name)) if hasattr(request, "FILES") else []


def _commitment_field(message: Any) -> serializers.BooleanField:
    return serializers.BooleanField(error_messages={"required": message})


class ObjectionCreateSerializer(serializers.Serializer):
    record = serializers.IntegerField(
        error_messages={
            "invalid": gettext_lazy("record 应为信用信息编号（整数）。"),
            "required": gettext_lazy("请指定要提出异议的信用信息（record）。"),
        }
    )
    grounds = serializers.ChoiceField(
        choices=Grounds.choices,
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("异议理由无效，可选：{codes}"), codes=", ".join(Grounds.values)
            )
        },
    )
    description = serializers.CharField(
        max_length=5000,
        error_messages={
            "blank": gettext_lazy("请填写异议说明。"),
            "required": gettext_lazy("请填写异议说明。"),
        },
    )
    commitment_accepted = _commitment_field(
        gettext_lazy("提出异议须签署异议承诺（commitment_accepted: true）。")
    )
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


class RepairCreateSerializer(serializers.Serializer):
    record = serializers.IntegerField(
        error_messages={
            "invalid": gettext_lazy("record 应为信用信息编号（整数）。"),
            "required": gettext_lazy("请指定要修复的失信信息（record）。"),
        }
    )
    correction_statement = serializers.CharField(
        max_length=5000,
        error_messages={
            "blank": gettext_lazy("请填写纠正失信行为的说明。"),
            "required": gettext_lazy("请填写纠正失信行为的说明。"),
        },
    )
    commitment_text = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    commitment_accepted = serializers.BooleanField(required=False, default=False)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


class CommitmentCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(k.value, k.label) for k in CommitmentKind],
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("承诺类型无效，可选：{codes}"),
                codes="notification, deficiency, voluntary",
            )
        },
    )
    department = serializers.CharField(required=False, allow_blank=True, max_length=20)
    matter_reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    matter_title = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=5000)
    publicity = serializers.CharField(required=False, default="public", max_length=20)
    due_date = serializers.DateField(required=False, allow_null=True)
    commitment_accepted = serializers.BooleanField(required=False, default=False)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


def _commitment_kwargs(v: dict[str, Any], request: Request) -> dict[str, Any]:
    return {
        "kind": v["kind"],
        "department": v.get("department") or None,
        "matter_reference": v.get("matter_reference", ""),
        "matter_title": v["matter_title"],
        "text": v["text"],
        "publicity": v.get("publicity") or "public",
        "due_date": v.get("due_date"),
        "commitment_accepted": v.get("commitment_accepted") is True,
    }


def _objection_kwargs(v: dict[str, Any], request: Request) -> dict[str, Any]:
    if v["commitment_accepted"] is not True:
        raise ServiceError(
            _("提出异议须签署异议承诺：承诺所提交材料真实有效。"),
            code="commitment_required",
            errors=[{"field": "commitment_accepted", "message": _("请勾选异议承诺。")}],
        )
    return {
        "record_id": v["record"],
        "grounds": v["grounds"],
        "description": v["description"],
        "commitment_accepted": True,
    }


def _repair_kwargs(v: dict[str, Any], request: Request) -> dict[str, Any]:
    return {
        "record_id": v["record"],
        "correction_statement": v["correction_statement"],
        "commitment_text": v.get("commitment_text", ""),
        "commitment_accepted": v.get("commitment_accepted") is True,
    }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        error_messages={
            "blank": gettext_lazy("请写明理由。"),
            "required": gettext_lazy("请写明理由（reason）。"),
        },
    )


class SupplementSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


def case_endpoints(
    k: CaseKind,
    create_serializer: type[serializers.Serializer],
    create_kwargs: Callable[[dict[str, Any], Request], dict[str, Any]],
) -> list[Any]:
    """The list/file, detail, withdraw and supplement endpoints of a case kind."""
    name = k.code

    def _case_for(user: Any, pk: int) -> Any:
        return get_object_or_404(k.visible_to(user), pk=pk)

    class ListCreate(APIView):
        parser_classes = [JSONParser, MultiPartParser, FormParser]

        @extend_schema(
            summary=f"List the caller's visible {name} cases, newest first",
            operation_id=f"{name}_list",
            responses={200: inline_serializer(f"{name}List", {"results": serializers.ListField()})},
        )
        def get(self, request: Request) -> Response:
            qs = k.visible_to(request.user).order_by(*k.order_by)[:100]
            return Response({"results": [k.list_item(c) for c in qs]})

        @extend_schema(
            summary=f"File a {name} case (JSON, or multipart with evidence files)",
            operation_id=f"{name}_create",
            request=create_serializer,
            responses={
                201: inline_serializer(f"{name}Created", {"id": serializers.IntegerField()})
            },
        )
        def post(self, request: Request) -> Response:
            s = create_serializer(data=request.data)
            s.is_valid(raise_exception=True)
            case = services.case_file(
                name,
                applicant=request.user,
                files=_files(request),
                **create_kwargs(dict(s.validated_data), request),
            )
            # what a filing answers: the new case's reference, status and deadlines (its page
            # and GET answer have the rest)
            current, deadlines = case_deadlines(k.code, case.pk)
            return Response(
                {
                    "id": case.pk,
                    "reference": case.reference,
                    "status": case.status,
                    "deadline": current["due_at"] if current else None,
                    "deadlines": deadlines,
                },
                status=status.HTTP_201_CREATED,
            )

    class Detail(APIView):
        @extend_schema(
            summary=f"A {name} case with status, deadlines and timeline (owner, staff)",
            operation_id=f"{name}_retrieve",
            responses={200: OpenApiTypes.OBJECT},
        )
        def get(self, request: Request, pk: int) -> Response:
            return Response(k.as_dict(_case_for(request.user, pk), viewer=request.user))

    class Withdraw(APIView):
        @extend_schema(
            summary=f"Withdraw an open {name} case (owner)",
            operation_id=f"{name}_withdraw",
            request=ReasonSerializer,
            responses={200: OpenApiTypes.OBJECT},
        )
        def post(self, request: Request, pk: int) -> Response:
            case = _case_for(request.user, pk)
            s = ReasonSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            case = services.case_withdrawn(
                name, case=case, by=request.user, reason=s.validated_data.get("reason", "")
            )
            return Response(k.as_dict(case, viewer=request.user))

    class Supplement(APIView):
        parser_classes = [JSONParser, MultiPartParser, FormParser]

        @extend_schema(
            summary=f"Give the supplements asked for ({name}, owner)",
            operation_id=f"{name}_supplement",
            request=SupplementSerializer,
            responses={200: OpenApiTypes.OBJECT},
        )
        def post(self, request: Request, pk: int) -> Response:
            case = _case_for(request.user, pk)
            s = SupplementSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            case = services.case_supplement_given(
                name,
                case=case,
                by=request.user,
                text=s.validated_data.get("text", ""),
                files=_files(request),
            )
            return Response(k.as_dict(case, viewer=request.user))

    p = k.url_prefix
    urls = [
        path(f"{p}/", ListCreate.as_view(), name=f"api-{name}s"),
        path(f"{p}/<int:pk>/", Detail.as_view(), name=f"api-{name}"),
    ]
    if k.withdraw is not None:
        urls.append(
            path(f"{p}/<int:pk>/withdraw/", Withdraw.as_view(), name=f"api-{name}-withdraw")
        )
    if k.supplement is not None:
        urls.append(
            path(f"{p}/<int:pk>/supplement/", Supplement.as_view(), name=f"api-{name}-supplement")
        )
    return urls


class RepairRevoke(APIView):
    @extend_schema(
        summary="Revoke an approved repair (supervisor): the record is published again",
        request=RequiredReasonSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        k = kind("repair")
        case = get_object_or_404(k.visible_to(request.user), pk=pk)
        s = RequiredReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        case = repair_revoke(repair=case, by=request.user, reason=s.validated_data["reason"])
        return Response(k.as_dict(case, viewer=request.user))


class RepairEligibility(APIView):
    @extend_schema(
        summary="Repair eligibility of one of the caller's records: every rule, pass or fail",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request.user
        record = (
            CreditRecord.objects.filter(pk=pk, subject_id=getattr(user, "subject_id", None))
            .select_related("department")
            .first()
            if user.is_authenticated and getattr(user, "subject_id", None)
            else None
        )
        if record is None:
            # another subject's record answers like a missing one: no existence leak
            raise ServiceError(
                _("未找到该信用信息，或它不属于您的企业。"), code="not_found", status_code=404
            )
        results = repair_eligibility(subject_id=user.subject_id, record=record)
        first = next(
            (r.detail.get("first_date") for r in results if r.rule == "minimum_publicity"), None
        )
        return Response(
            {
                "record": record.pk,
                "eligible": all(r.ok for r in results),
                "first_date": first,
                "rules": [{**r.as_dict(), "label": r.label} for r in results],
            }
        )


# --- tasks --------------------------------------------------------------------------------------


class TaskList(APIView):
    @extend_schema(
        summary="The caller's queue: open tasks they may act on, oldest deadline first",
        parameters=[
            OpenApiParameter("kind", str, description="objection | repair | commitment"),
            OpenApiParameter("step", str),
            OpenApiParameter("department", str, description="department code"),
            OpenApiParameter("due", str, description="overdue | soon"),
            OpenApiParameter("mine", bool),
            OpenApiParameter(
                "sort", str, description="due (default) | -due | received | -received"
            ),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        if not request.user.is_staff_member:
            raise ServiceError(_("任务队列仅对工作人员开放。"), code="forbidden", status_code=403)
        p = request.query_params
        try:
            limit = max(1, min(int(p.get("limit", 50)), 500))
            offset = max(0, min(int(p.get("offset", 0)), 100_000))
        except ValueError:
            raise ServiceError(_("limit 和 offset 应为整数。"), code="invalid")
        sort = p.get("sort") or "due"
        if sort not in SORTS:
            raise ServiceError(
                _("sort 只能是：%(codes)s。") % {"codes": ", ".join(SORTS)}, code="invalid"
            )
        due = p.get("due") or None
        if due not in (None, "overdue", "soon"):
            raise ServiceError(_("due 只能是 overdue 或 soon。"), code="invalid")
        tasks, more = task_queue_page(
            request.user,
            offset=offset,
            limit=limit,
            kind=p.get("kind") or None,
            step=p.get("step") or None,
            department=p.get("department") or None,
            due=due,
            mine=p.get("mine") in ("1", "true", "yes"),
            sort=sort,
        )
        now = timezone.now()
        soon = soon_threshold(now)
        return Response(
            {
                "results": [task_as_dict(t, now=now, soon=soon) for t in tasks],
                "next_offset": offset + limit if more else None,
            }
        )


class TaskClaim(APIView):
    @extend_schema(summary="Claim a task", request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        return Response(task_as_dict(services.task_claim(task_id=pk, user=request.user)))


class TaskRelease(APIView):
    @extend_schema(
        summary="Release a claimed task back to its group",
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(task_as_dict(services.task_release(task_id=pk, user=request.user)))


class AssignSerializer(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    assignee = serializers.CharField(allow_null=True, required=False)


class TaskAssign(APIView):
    @extend_schema(
        summary="Supervisor: assign or reassign tasks in bulk",
        request=AssignSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        s = AssignSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        assignee = None
        if s.validated_data.get("assignee"):
            assignee = User.objects.filter(username=s.validated_data["assignee"]).first()
            if assignee is None:
                raise ServiceError(_("用户不存在：%(u)s") % {"u": s.validated_data["assignee"]})
        tasks = services.task_assign(
            task_ids=s.validated_data["tasks"], assignee=assignee, by=request.user
        )
        return Response({"results": [task_as_dict(t) for t in tasks]})


class CompleteSerializer(serializers.Serializer):
    decision = serializers.CharField(
        error_messages={"required": gettext_lazy("请给出办理决定（decision）。")}
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=f"objection: {', '.join(Outcome.values)}; commitment finding: partly, not",
    )
    content = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class TaskComplete(APIView):
    @extend_schema(
        summary="Complete a task with a decision; 409 if someone else moved it first",
        request=CompleteSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        s = CompleteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        task = services.task_complete(
            task_id=pk, user=request.user, decision=data.pop("decision"), data=data
        )
        return Response(task_as_dict(task))


class FulfilmentSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


class CommitmentFulfilment(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Supply fulfilment evidence for a commitment (owner); the department is notified",
        request=FulfilmentSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        k = kind("commitment")
        case = get_object_or_404(k.visible_to(request.user), pk=pk)
        s = FulfilmentSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        case = commitment_submit_fulfilment(
            commitment=case,
            by=request.user,
            note=s.validated_data.get("note", ""),
            files=_files(request),
        )
        return Response(k.as_dict(case, viewer=request.user))


def _random_check_as_dict(check: Any) -> dict[str, Any]:
    return {
        "id": check.pk,
        "seed": str(check.seed),
        "started_at": check.started_at.isoformat(),
        "started_by": check.started_by.username if check.started_by_id else None,
        "department": check.department.code if check.department_id else None,
        "policy_version": check.policy_version,
        "ratios": check.ratios,
        "population": len(check.population),
        "population_ids": [row[0] for row in check.population],
        "drawn": check.drawn,
        "assignees": check.assignees,
    }


class RandomCheckSerializer(serializers.Serializer):
    department = serializers.CharField(required=False, allow_blank=True, max_length=20)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**62)


def _supervisor(request: Request) -> None:
    if not getattr(request.user, "is_supervisor", False):
        raise ServiceError(_("双随机抽查仅对主管开放。"), code="forbidden", status_code=403)


class RandomCheckListCreate(APIView):
    @extend_schema(
        summary="Random checks (双随机) so far, newest first (supervisors)",
        operation_id="random_checks_list",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        _supervisor(request)
        rows = RandomCheck.objects.select_related("started_by", "department")[:100]
        return Response(
            {
                "results": [
                    {k: v for k, v in _random_check_as_dict(c).items() if k != "population_ids"}
                    for c in rows
                ]
            }
        )

    @extend_schema(
        summary="Start a random check: draw active commitments at the grade-linked ratio",
        request=RandomCheckSerializer,
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        _supervisor(request)
        s = RandomCheckSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        department = None
        code = s.validated_data.get("department")
        if code:
            department = Department.objects.filter(code=code).first()
            if department is None:
                raise ServiceError(_("部门代码不存在：%(c)s。") % {"c": code}, code="invalid")
        check = services.random_check_start(
            by=request.user, department=department, seed=s.validated_data.get("seed")
        )
        return Response(_random_check_as_dict(check), status=status.HTTP_201_CREATED)


class RandomCheckDetail(APIView):
    @extend_schema(summary="One random check as drawn", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        _supervisor(request)
        return Response(_random_check_as_dict(get_object_or_404(RandomCheck, pk=pk)))


class RandomCheckReplay(APIView):
    @extend_schema(
        summary="Recompute a random check from its stored seed and population; does it match?",
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        _supervisor(request)
        return Response(random_check_replay(get_object_or_404(RandomCheck, pk=pk)))
