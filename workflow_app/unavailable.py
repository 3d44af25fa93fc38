"""Error answers that are not a view's: the database unreachable (503 with Retry-After instead of
a server error; JSON for the API, a page for people; still logged for the operators) and API
paths that match no route (404 in the API's JSON shape)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found, server_error

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (OperationalError, InterfaceError)


def unavailable_message() -> str:
    return _("系统正在维护或数据库暂时不可用，您的数据没有丢失；请 30 秒后重试。")


def is_unavailable(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, UNAVAILABLE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "unavailable", "message": unavailable_message()}, status=503
        )
    else:
        # rendered without a request context: no session, no user, no database
        html = loader.get_template("503.html").render({"message": unavailable_message()})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: 503 when the cause is the database being unreachable."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return server_error(request)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An API path that matches no route answers in the API's JSON error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": _("未找到该对象，或您无权查看。")}, status=404
        )
    return page_not_found(request, exception)
