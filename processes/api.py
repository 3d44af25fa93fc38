"""REST endpoints of the objection workflow and the task queues (SPEC §12).

Views validate input, call one service and render; they hold no business rules.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from objections.models import Grounds, Objection, Outcome
from objections.selectors import objection_as_dict, objections_visible_to
from workflow_app.accounts.models import User
from workflow_app.api import ServiceError

from . import services
from .selectors import soon_threshold, task_as_dict, task_queue_page


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
    commitment_accepted = serializers.BooleanField(
        error_messages={
            "required": gettext_lazy("提出异议须签署异议承诺（commitment_accepted: true）。")
        }
    )
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


def _files(request: Request, name: str = "evidence") -> list[Any]:
    return list(request.FILES.getlist(name)) if hasattr(request, "FILES") else []


def _objection_for(user: User, pk: int) -> Objection:
    return get_object_or_404(objections_visible_to(user), pk=pk)


class ObjectionListCreate(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="List the caller's visible objections",
        operation_id="objections_list",
        responses={200: inline_serializer("ObjectionList", {"results": serializers.ListField()})},
    )
    def get(self, request: Request) -> Response:
        qs = objections_visible_to(request.user).order_by("-filed_at")[:100]
        return Response(
            {
                "results": [
                    {
                        "id": o.pk,
                        "reference": o.reference,
                        "status": o.status,
                        "record": o.record_id,
                        "filed_at": o.filed_at.isoformat(),
                    }
                    for o in qs
                ]
            }
        )

    @extend_schema(
        summary="File an objection (JSON, or multipart with evidence files)",
        request=ObjectionCreateSerializer,
        responses={201: inline_serializer("ObjectionCreated", {"id": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        s = ObjectionCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        if s.validated_data["commitment_accepted"] is not True:
            raise ServiceError(
                _("提出异议须签署异议承诺：承诺所提交材料真实有效。"),
                code="commitment_required",
                errors=[{"field": "commitment_accepted", "message": _("请勾选异议承诺。")}],
            )
        objection = services.objection_file(
            applicant=request.user,
            record_id=s.validated_data["record"],
            grounds=s.validated_data["grounds"],
            description=s.validated_data["description"],
            commitment_accepted=True,
            files=_files(request),
        )
        detail = objection_as_dict(objection)
        return Response(
            {
                "id": objection.pk,
                "reference": objection.reference,
                "status": objection.status,
                "deadline": detail["deadline"]["due_at"] if detail["deadline"] else None,
                "deadlines": detail["deadlines"],
            },
            status=status.HTTP_201_CREATED,
        )


class ObjectionDetail(APIView):
    @extend_schema(
        summary="An objection with status, outcome, deadlines and timeline",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(objection_as_dict(_objection_for(request.user, pk)))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ObjectionWithdraw(APIView):
    @extend_schema(
        summary="Withdraw an open objection (owner)",
        request=ReasonSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        objection = _objection_for(request.user, pk)
        s = ReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        objection = services.objection_withdrawn(
            objection=objection, by=request.user, reason=s.validated_data.get("reason", "")
        )
        return Response(objection_as_dict(objection))


class SupplementSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence = serializers.ListField(child=serializers.FileField(), required=False)


class ObjectionSupplement(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Give the supplements asked for (owner)",
        request=SupplementSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        objection = _objection_for(request.user, pk)
        s = SupplementSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        objection = services.objection_supplement_given(
            objection=objection,
            by=request.user,
            text=s.validated_data.get("text", ""),
            files=_files(request),
        )
        return Response(objection_as_dict(objection))


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
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        required=False,
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("处理结果无效，可选：{codes}"), codes=", ".join(Outcome.values)
            )
        },
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
