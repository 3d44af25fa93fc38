"""Red and black list API: departments join and leave their entries and record the report to the
national platform; staff read entries; anyone reads the public lists. Views only translate HTTP
to service and selector calls."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow_app.accounts.models import Role
from workflow_app.api import Forbidden, NotFound
from workflow_app.registry.identifiers import validate_uscc
from workflow_app.registry.models import Subject, SubjectKind
from workflow_app.textsearch import planned_for_the_text

from . import selectors, services
from .models import EntryStatus, ListEntry, ListType, NationalReport

ERROR_SCHEMA = inline_serializer(
    name="CreditListErrorResponse",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.ListField(child=serializers.DictField(), required=False),
    },
)
READ_ERRORS = {400: ERROR_SCHEMA, 401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 404: ERROR_SCHEMA}
WRITE_ERRORS = {**READ_ERRORS, 409: ERROR_SCHEMA}


# --- serializers --------------------------------------------------------------------------------


class JoinSerializer(serializers.Serializer):
    list_type = serializers.ChoiceField(choices=ListType.choices)
    identifier = serializers.CharField(
        max_length=32, help_text=gettext_lazy("主体的统一社会信用代码（18位）")
    )
    reason = serializers.CharField(max_length=services.MAX_TEXT)
    decision_reference = serializers.CharField(
        max_length=services.MAX_REFERENCE, help_text=gettext_lazy("列入决定文号")
    )
    joined_on = serializers.DateField(help_text=gettext_lazy("列入决定日期，不能晚于今天"))

    def validate_identifier(self, value: str) -> str:
        try:
            return validate_uscc(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from exc


class LeaveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_TEXT)
    decision_reference = serializers.CharField(
        max_length=services.MAX_REFERENCE, help_text=gettext_lazy("移出决定文号")
    )
    left_on = serializers.DateField(help_text=gettext_lazy("移出决定日期，不能晚于今天"))


class NationalReportInputSerializer(serializers.Serializer):
    reported_on = serializers.DateField(help_text=gettext_lazy("报送国家平台的日期"))
    national_reference = serializers.CharField(
        max_length=services.MAX_REFERENCE, help_text=gettext_lazy("国家平台回执编号")
    )


class NationalReportSerializer(serializers.ModelSerializer):
    on_time = serializers.SerializerMethodField()

    class Meta:
        model = NationalReport
        fields = [
            "id",
            "action",
            "action_date",
            "days",
            "due_date",
            "provisional",
            "reported_on",
            "national_reference",
            "on_time",
        ]
        read_only_fields = fields

    def get_on_time(self, obj: NationalReport) -> bool | None:
        """``null`` while not reported."""
        if obj.reported_on is None:
            return None
        return obj.reported_on <= obj.due_date


class SubjectBriefSerializer(serializers.Serializer):
    name = serializers.CharField()
    identifier = serializers.CharField(source="identifier_display")


class DepartmentBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class EntrySerializer(serializers.ModelSerializer):
    subject = SubjectBriefSerializer()
    department = DepartmentBriefSerializer()

    class Meta:
        model = ListEntry
        fields = [
            "id",
            "list_type",
            "status",
            "subject",
            "department",
            "reason",
            "decision_reference",
            "joined_on",
            "left_on",
            "leave_reason",
            "leave_decision_reference",
            "joined_at",
            "left_at",
        ]
        read_only_fields = fields


class EntryDetailSerializer(EntrySerializer):
    national_reports = serializers.SerializerMethodField()

    class Meta(EntrySerializer.Meta):
        fields = [*EntrySerializer.Meta.fields, "national_reports"]
        read_only_fields = fields

    @extend_schema_field(NationalReportSerializer(many=True))
    def get_national_reports(self, obj: ListEntry) -> list[dict[str, Any]]:
        return NationalReportSerializer(selectors.entry_reports(obj), many=True).data  # type: ignore[return-value]


class PublicEntrySerializer(serializers.ModelSerializer):
    """What the public list shows of an entry."""

    name = serializers.CharField(source="subject.name")
    identifier = serializers.CharField(
        source="subject.identifier_display", help_text=gettext_lazy("统一社会信用代码")
    )
    department = serializers.CharField(source="department.name")

    class Meta:
        model = ListEntry
        fields = ["name", "identifier", "department", "joined_on", "reason", "decision_reference"]
        read_only_fields = fields


# --- helpers ------------------------------------------------------------------------------------


def _department_user(request: Request) -> Any:
    user = request.user
    if getattr(user, "role", None) != Role.DEPARTMENT or user.department_id is None:  # type: ignore[union-attr]
        raise Forbidden(_("只有信源单位经办人可以办理红黑名单的列入、移出和报送。"))
    return user


def _staff_reader(request: Request) -> Any:
    if not selectors.can_read_entries(request.user):
        raise Forbidden(_("红黑名单条目仅对工作人员开放。"))
    return request.user


def _subject(identifier: str) -> Subject:
    subject = Subject.objects.filter(kind=SubjectKind.LEGAL_PERSON, identifier=identifier).first()
    if subject is None:
        raise NotFound(
            _("未找到统一社会信用代码为 %(code)s 的主体，请核对后重新输入。")
            % {"code": identifier},
            code="subject_not_found",
        )
    return subject


def _entry(pk: int) -> ListEntry:
    entry = ListEntry.objects.select_related("subject", "department").filter(pk=pk).first()
    if entry is None:
        raise NotFound(_("未找到该名单条目。"), code="entry_not_found")
    return entry


# --- views --------------------------------------------------------------------------------------


class EntryListView(generics.ListAPIView):
    """Staff read the entries (a department caseworker those of their department); a department
    caseworker lists a subject on a list for their department."""

    serializer_class = EntrySerializer

    def get_queryset(self) -> QuerySet[ListEntry]:
        params = self.request.query_params
        list_type = params.get("list_type", "")
        entry_status = params.get("status", "")
        return selectors.entries_for(
            self.request.user,
            list_type=list_type if list_type in ListType.values else "",
            status=entry_status if entry_status in EntryStatus.values else "",
            department_code=params.get("department", "")[:20],
            q=params.get("q", ""),
        )

    @extend_schema(
        tags=["lists"],
        operation_id="list_entries",
        summary="红黑名单条目（工作人员）",
        parameters=[
            OpenApiParameter("list_type", str, enum=ListType.values),
            OpenApiParameter("status", str, enum=EntryStatus.values),
            OpenApiParameter("department", str, description="信源单位代码"),
            OpenApiParameter("q", str, description="主体名称或统一社会信用代码"),
        ],
        responses={200: EntrySerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _staff_reader(request)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["lists"],
        operation_id="list_join",
        summary="列入红名单或黑名单（信源单位）",
        description=(
            "The caller's department lists a legal person (by its 统一社会信用代码) on the red or "
            "black list. The report to the national platform is opened with its due date. "
            "Refused (409) when the subject is already on that list, or is on the black list "
            "and the red list is asked for; 404 when no subject has that code."
        ),
        request=JoinSerializer,
        responses={201: EntryDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _department_user(request)
        s = JoinSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        entry = services.list_join(
            subject=_subject(data["identifier"]),
            list_type=data["list_type"],
            department=user.department,
            reason=data["reason"],
            decision_reference=data["decision_reference"],
            joined_on=data["joined_on"],
            by=user,
        )
        return Response(EntryDetailSerializer(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailView(APIView):
    @extend_schema(
        tags=["lists"],
        operation_id="list_entry",
        summary="红黑名单条目详情及国家平台报送情况（工作人员）",
        responses={200: EntryDetailSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = _staff_reader(request)
        entry = selectors.entry_for(user, pk)
        if entry is None:
            raise NotFound(_("未找到该名单条目。"), code="entry_not_found")
        return Response(EntryDetailSerializer(entry).data)


class EntryLeaveView(APIView):
    @extend_schema(
        tags=["lists"],
        operation_id="list_leave",
        summary="移出红名单或黑名单（认定单位）",
        description=(
            "Only the department that listed the subject may remove it (403 otherwise); an "
            "entry already removed is refused (409). The report to the national platform of "
            "the removal is opened."
        ),
        request=LeaveSerializer,
        responses={200: EntryDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _department_user(request)
        s = LeaveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        entry = services.list_leave(
            entry=_entry(pk),
            reason=data["reason"],
            decision_reference=data["decision_reference"],
            left_on=data["left_on"],
            by=user,
        )
        return Response(EntryDetailSerializer(entry).data)


class NationalReportView(APIView):
    @extend_schema(
        tags=["lists"],
        operation_id="list_report_national",
        summary="登记向国家平台报送（认定单位）",
        description=(
            "Records the date a join or removal was reported to the national platform and the "
            "platform's receipt number. Reporting twice is refused (409)."
        ),
        request=NationalReportInputSerializer,
        responses={200: NationalReportSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _department_user(request)
        s = NationalReportInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        report = NationalReport.objects.filter(pk=pk).first()
        if report is None:
            raise NotFound(_("未找到该报送事项。"), code="report_not_found")
        report = services.list_report_national(
            report=report,
            reported_on=s.validated_data["reported_on"],
            national_reference=s.validated_data["national_reference"],
            by=user,
        )
        return Response(NationalReportSerializer(report).data)


class PublicListView(generics.ListAPIView):
    """A public list (legal persons only), newest first, searchable."""

    permission_classes = [permissions.AllowAny]
    serializer_class = PublicEntrySerializer
    list_type = ListType.RED

    def get_queryset(self) -> QuerySet[ListEntry]:
        return selectors.public_list(self.list_type, self.request.query_params.get("q", ""))

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with planned_for_the_text(request.query_params.get("q", "")):
            return super().get(request, *args, **kwargs)


_PUBLIC_Q = OpenApiParameter("q", str, description="主体名称或统一社会信用代码（可部分匹配）")


class RedListView(PublicListView):
    list_type = ListType.RED

    @extend_schema(
        tags=["lists"],
        operation_id="red_list",
        summary="守信红名单（公开）",
        parameters=[_PUBLIC_Q],
        responses={200: PublicEntrySerializer(many=True), 400: ERROR_SCHEMA},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class BlackListView(PublicListView):
    list_type = ListType.BLACK

    @extend_schema(
        tags=["lists"],
        operation_id="black_list",
        summary="失信黑名单（公开）",
        parameters=[_PUBLIC_Q],
        responses={200: PublicEntrySerializer(many=True), 400: ERROR_SCHEMA},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
