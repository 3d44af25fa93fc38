from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import Notification


def as_dict(n: Notification) -> dict:
    return {
        "id": n.pk,
        "event": n.event,
        "title": n.title,
        "body": n.body,
        "case_kind": n.case_kind or None,
        "case_id": n.case_id,
        "url": n.url,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }


class NotificationList(APIView):
    @extend_schema(
        summary="The caller's in-app inbox, newest first",
        parameters=[OpenApiParameter("unread", bool), OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
    )
    def get(self, request: Request) -> Response:
        qs = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id")
        if request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        try:
            limit = max(1, min(int(request.query_params.get("limit", 50)), 200))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            limit, offset = 50, 0
        items = list(qs[offset : offset + limit])
        return Response(
            {
                "count": qs.count(),
                "unread": Notification.objects.filter(recipient=request.user, read_at__isnull=True).count(),
                "results": [as_dict(n) for n in items],
            }
        )


class NotificationRead(APIView):
    @extend_schema(summary="Mark one notification read", request=None)
    def post(self, request: Request, pk: int) -> Response:
        n = get_object_or_404(Notification, pk=pk, recipient=request.user)
        services.inbox_mark_read(notification=n, user=request.user)
        return Response(as_dict(n))


class NotificationReadAll(APIView):
    @extend_schema(summary="Mark every notification read", request=None)
    def post(self, request: Request) -> Response:
        return Response({"marked": services.inbox_mark_all_read(user=request.user)})
