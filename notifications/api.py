"""The caller's in-app inbox over the API (SPEC §12): list newest first, mark read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    case_kind = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "event",
            "title",
            "body",
            "case_kind",
            "case_id",
            "created_at",
            "read",
            "url",
        ]
        read_only_fields = fields

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None

    def get_case_kind(self, obj: Notification) -> str | None:
        return obj.case_kind or None


def inbox_of(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


class NotificationList(generics.ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return inbox_of(self.request.user, unread_only=unread)

    @extend_schema(
        summary="The caller's in-app inbox, newest first",
        parameters=[OpenApiParameter("unread", bool, description="only unread notifications")],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationRead(APIView):
    @extend_schema(
        summary="Mark one of the caller's notifications read",
        request=None,
        responses=NotificationSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
        services.inbox_mark_read(notification=notification, user=request.user)  # type: ignore[arg-type]
        return Response(NotificationSerializer(notification).data)


class NotificationReadAll(APIView):
    @extend_schema(
        summary="Mark every notification of the caller read",
        request=None,
        responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": services.inbox_mark_all_read(user=request.user)})  # type: ignore[arg-type]
