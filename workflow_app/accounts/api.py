"""Token issue and "who am I" for API clients."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .authentication import CompiledTokenAuthentication

ERROR_SCHEMA = inline_serializer(
    name="ErrorResponse",
    fields={"code": serializers.CharField(), "message": serializers.CharField()},
)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"))
    password = serializers.CharField(label=_("密码"), style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class MeSubjectSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text=_("统一社会信用代码，或脱敏的身份证号码"))
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    subject = MeSubjectSerializer(allow_null=True)
    department = serializers.CharField(allow_null=True, help_text=_("部门代码"))


class TokenObtainView(APIView):
    """Exchange a username and password for an API token (``Authorization: Token <key>``)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, 400: ERROR_SCHEMA},
        examples=[
            OpenApiExample(
                "demo",
                value={"username": "applicant", "password": "demo-pass-2026"},
                request_only=True,
            )
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.auth_token_obtain(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            request=request._request,
        )
        return Response({"token": key})


class MeView(APIView):
    """The caller's account: role and the subject or department it speaks for."""

    # Token first, so an anonymous call answers 401 with a WWW-Authenticate header.
    authentication_classes = [CompiledTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["auth"], responses={200: MeSerializer, 401: ERROR_SCHEMA})
    def get(self, request: Request) -> Response:
        user = request.user
        subject = user.subject  # type: ignore[union-attr]
        department = user.department  # type: ignore[union-attr]
        return Response(
            {
                "username": user.username,  # type: ignore[union-attr]
                "role": user.role,  # type: ignore[union-attr]
                "subject": (
                    {"identifier": subject.identifier_display, "name": subject.name}
                    if subject is not None
                    else None
                ),
                "department": department.code if department is not None else None,
            }
        )


class TokenRevokeView(APIView):
    """Revoke the caller's API token (log out an API client); a new one is issued at the next
    ``POST /api/v1/auth/token/``."""

    authentication_classes = [CompiledTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=["auth"], request=None, responses={204: None, 401: ERROR_SCHEMA})
    def post(self, request: Request) -> Response:
        services.auth_token_revoke(user=request.user)
        return Response(status=204)
