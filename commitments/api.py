"""Read endpoints of commitments (signing and review arrive with issue #7)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import commitment_as_dict, commitments_visible_to


class CommitmentList(APIView):
    @extend_schema(
        summary="The caller's visible commitments, newest first",
        operation_id="commitments_list",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        qs = commitments_visible_to(request.user).order_by("-signed_at", "-id")[:100]
        return Response({"results": [commitment_as_dict(c, viewer=request.user) for c in qs]})


class CommitmentDetail(APIView):
    @extend_schema(
        summary="A commitment with status, deadlines and timeline (owner and staff)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        c = get_object_or_404(commitments_visible_to(request.user), pk=pk)
        return Response(commitment_as_dict(c, viewer=request.user))
