"""Credit check before approvals (联合奖惩 embedded in approval): staff ask, every check is
logged, and the department reports the measure it applied."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow_app.api import ServiceError
from workflow_app.registry.identifiers import lookup_candidates
from workflow_app.registry.selectors import subject_by_identifier

from . import services
from .models import CreditCheck
from .selectors import credit_check_result


def _staff(request: Request) -> None:
    if not getattr(request.user, "is_staff_member", False):
        raise ServiceError(_("信用核查仅对工作人员开放。"), code="forbidden", status_code=403)


class CreditCheckView(APIView):
    @extend_schema(
        summary="Credit check of a subject before approving a matter (staff); logged",
        parameters=[OpenApiParameter("matter_reference", str)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, identifier: str) -> Response:
        _staff(request)
        try:
            lookup_candidates(identifier)
        except DjangoValidationError as exc:
            raise ServiceError(exc.messages[0], code="invalid_identifier")
        subject = subject_by_identifier(identifier)
        if subject is None:
            raise ServiceError(
                _("未找到该主体，请核对统一社会信用代码或身份证号。"),
                code="not_found",
                status_code=404,
            )
        result = credit_check_result(subject)
        check = services.credit_check(
            subject=subject,
            by=request.user,
            matter_reference=request.query_params.get("matter_reference", ""),
            result=result,
        )
        return Response({**result, "check_id": check.pk})


class FeedbackSerializer(serializers.Serializer):
    measure = serializers.CharField(max_length=60)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CreditCheckFeedback(APIView):
    @extend_schema(
        summary="Report the measure applied after a credit check",
        request=FeedbackSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, pk: int) -> Response:
        _staff(request)
        check = get_object_or_404(CreditCheck, pk=pk)
        s = FeedbackSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        row = services.credit_check_feedback(
            check=check,
            by=request.user,
            measure=s.validated_data["measure"],
            note=s.validated_data.get("note", ""),
        )
        return Response(
            {
                "id": row.pk,
                "measure": row.feedback_measure,
                "note": row.feedback_note,
                "feedback_at": row.feedback_at.isoformat() if row.feedback_at else None,
            }
        )
