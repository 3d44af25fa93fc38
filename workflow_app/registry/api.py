"""Registry API: departments push records; anyone reads a legal person's report or verifies a
decision document. Views only translate HTTP to service and selector calls."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow_app.accounts.models import Role
from workflow_app.api import Forbidden, NotFound, ServiceError

from . import selectors, services
from .identifiers import lookup_candidates
from .models import Category, DecisionDocument, Nature, Severity, SubjectKind

ERROR_SCHEMA = inline_serializer(
    name="RegistryErrorResponse",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.ListField(child=serializers.DictField(), required=False),
    },
)


# --- serializers (documentation of the shapes; validation lives in the service) ----------------


class ImportSubjectSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SubjectKind.choices)
    identifier = serializers.CharField(help_text=gettext_lazy("统一社会信用代码或居民身份证号码"))
    name = serializers.CharField()


class ImportItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=100, help_text=gettext_lazy("本单位对该条信息的唯一编号")
    )
    subject = ImportSubjectSerializer()
    category = serializers.ChoiceField(choices=Category.choices)
    nature = serializers.ChoiceField(choices=Nature.choices)
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("失信信息必填，其他留空"),
    )
    title = serializers.CharField(max_length=300)
    content = serializers.CharField(required=False, allow_blank=True)
    decision_date = serializers.DateField()
    publicity_end = serializers.DateField(required=False, allow_null=True)


class ImportResultRecordSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    id = serializers.IntegerField()


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    records = ImportResultRecordSerializer(many=True)


class ReportSubjectSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    identifier = serializers.CharField(
        help_text=gettext_lazy("统一社会信用代码，或脱敏的身份证号码")
    )
    grade = serializers.CharField()
    red_list = serializers.BooleanField()
    black_list = serializers.BooleanField()


class ReportRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField()
    nature = serializers.CharField()
    severity = serializers.CharField(allow_blank=True)
    title = serializers.CharField()
    status = serializers.CharField()
    under_objection = serializers.BooleanField()
    decision_date = serializers.DateField()
    publicity_end = serializers.DateField(allow_null=True)
    department = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class ReportSerializer(serializers.Serializer):
    subject = ReportSubjectSerializer()
    records = ReportRecordSerializer(many=True)


class VerifySerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    decision = serializers.CharField()
    decision_label = serializers.CharField()
    summary = serializers.CharField()
    case_reference = serializers.CharField()
    subject = serializers.CharField(help_text=gettext_lazy("主体名称（自然人脱敏）"))
    issued_at = serializers.DateTimeField()
    issued_by = serializers.CharField()
    status = serializers.ChoiceField(choices=DecisionDocument.Status.choices)
    in_force = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField(allow_null=True)


# --- views --------------------------------------------------------------------------------------


class RecordImportView(APIView):
    """Batch upsert of credit records by a department (双公示 data)."""

    @extend_schema(
        tags=["registry"],
        operation_id="records_import",
        summary="推送信用信息（批量，幂等）",
        description=(
            'A JSON list of records (or `{"records": [...]}`). Idempotent by (department, '
            "external_id): an unchanged item changes nothing, a changed one creates a new "
            "version. If any item is invalid the whole batch is refused with per-item errors "
            "(`index`, `external_id`, `field`, `message`) and nothing is stored."
        ),
        request=ImportItemSerializer(many=True),
        responses={
            200: ImportResultSerializer,
            201: ImportResultSerializer,
            400: ERROR_SCHEMA,
            403: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
        },
        examples=[
            OpenApiExample(
                "penalty",
                request_only=True,
                value=[
                    {
                        "external_id": "SAMR-CF-2025-0001",
                        "subject": {
                            "kind": "legal_person",
                            "identifier": "91350100M000100Y43",
                            "name": "示例科技有限公司",
                        },
                        "category": "penalty",
                        "nature": "dishonesty",
                        "severity": "general",
                        "title": "行政处罚决定书 深市监罚〔2025〕1号",
                        "content": "未按规定公示年度报告，罚款人民币5000元。",
                        "decision_date": "2025-03-18",
                        "publicity_end": "2026-03-18",
                    }
                ],
            )
        ],
    )
    def post(self, request: Request) -> Response:
        user = request.user
        if getattr(user, "role", None) != Role.DEPARTMENT or user.department_id is None:  # type: ignore[union-attr]
            raise Forbidden(_("只有信源单位经办人可以推送信用信息"))
        data: Any = request.data
        if isinstance(data, dict) and "records" in data:
            data = data["records"]
        if not isinstance(data, list):
            raise ServiceError(
                _('请求体应为信用信息数组，或形如 {"records": [...]} 的对象。'),
                code="invalid_body",
            )
        if not data:
            raise ServiceError(_("批次为空：请至少提供一条信用信息。"), code="empty_batch")
        result = services.record_import_batch(
            department=user.department,  # type: ignore[union-attr]
            items=data,
            by=user,
        )
        code = status.HTTP_201_CREATED if result["created"] else status.HTTP_200_OK
        return Response(result, status=code)


class SubjectReportView(APIView):
    """The credit report of a subject: public for legal persons."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["registry"],
        operation_id="subject_report",
        summary="信用报告",
        parameters=[
            OpenApiParameter(
                "identifier",
                str,
                OpenApiParameter.PATH,
                description="统一社会信用代码（法人）或身份证号码（自然人，仅本人和工作人员可查）",
            )
        ],
        responses={200: ReportSerializer, 400: ERROR_SCHEMA, 404: ERROR_SCHEMA},
    )
    def get(self, request: Request, identifier: str) -> Response:
        try:
            lookup_candidates(identifier)
        except ValidationError as exc:
            message = exc.messages[0]
            raise ServiceError(
                message,
                code="invalid_identifier",
                errors=[{"field": "identifier", "message": message}],
            ) from exc
        subject = selectors.subject_by_identifier(identifier)
        if subject is None or not selectors.can_view_subject_report(request.user, subject):
            raise NotFound(
                _("未找到该主体的信用信息。请核对统一社会信用代码或身份证号码后重新查询。"),
                code="subject_not_found",
            )
        return Response(selectors.report_as_dict(subject, request.user))


class VerifyView(APIView):
    """Check a decision document by its verification code."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["registry"],
        operation_id="decision_verify",
        summary="决定文书验证",
        responses={200: VerifySerializer, 404: ERROR_SCHEMA},
    )
    def get(self, request: Request, code: str) -> Response:
        document = selectors.decision_by_code(code)
        if document is None:
            raise NotFound(
                _("未找到该验证码对应的决定文书，请核对后重新输入。"), code="code_not_found"
            )
        return Response(selectors.decision_as_dict(document))
