"""Refuse request input that no field may hold, before any view or database sees it: NUL
characters (PostgreSQL text cannot store them; a query with one fails with a server error) and
lone UTF-16 surrogates (they cannot be encoded for the database). The answer is a 400 with a
message, in JSON for the API, so nothing is half-stored and nothing answers 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

_BAD_JSON_ESCAPE = re.compile(rb"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _has_bad_input(request: HttpRequest) -> bool:
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith(_TEXT_TYPES):
        return False  # multipart bodies are checked field by field by Django's parser
    body = request.body
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded") and b"\x00" in unquote_to_bytes(
        body
    ):
        return True
    return content_type.startswith("application/json") and bool(_BAD_JSON_ESCAPE.search(body))


class BadInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            bad = _has_bad_input(request)
        except Exception:  # noqa: BLE001 - an unreadable body is the view's to refuse
            bad = False
        if bad:
            message = _("请求中含有空字符（NUL）或无效的 Unicode 字符，请删除后重试。")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_characters", "message": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
