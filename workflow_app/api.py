"""API conventions shared by every endpoint: JSON errors a person can act on, never a 500."""

from __future__ import annotations

import logging
from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A business rule refused the request. ``code`` is machine-readable, ``message`` is for a
    person (already translated), ``status`` the HTTP status an API answers with."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        errors: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = errors or []
        if status_code is not None:
            self.status_code = status_code


class Conflict(ServiceError):
    """Someone else moved the case or task first."""

    status_code = 409

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message, code=code)


class Forbidden(ServiceError):
    status_code = 403

    def __init__(self, message: str, *, code: str = "forbidden") -> None:
        super().__init__(message, code=code)


class NotFound(ServiceError):
    status_code = 404

    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, code=code)


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                name = prefix
            out.extend(_flatten(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and not all(isinstance(v, str) for v in value):
                out.extend(_flatten(value, f"{prefix}[{index}]" if prefix else f"[{index}]"))
            else:
                out.extend(_flatten(value, prefix))
    else:
        out.append({"field": prefix, "message": str(detail)})
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    from workflow_app.unavailable import RETRY_AFTER_SECONDS, is_unavailable, unavailable_message

    if is_unavailable(exc):
        logger.error("database unavailable", exc_info=exc)
        return Response(
            {"code": "unavailable", "message": unavailable_message()},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到该对象，或您无权查看。"))
    if isinstance(exc, AxesBackendPermissionDenied):
        from workflow_app.accounts.lockout import lockout_message

        return Response(
            {"code": "locked_out", "message": lockout_message()},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))},
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "code": "too_large",
                "message": _("请求内容过大，超出 %(mb)d MB 的上限；请减少内容或分批提交。")
                % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024) or 1},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):  # TooManyFieldsSent, TooManyFilesSent, …
        exc = exceptions.ParseError(
            _("请求中的字段或文件过多（上限 %(fields)d 个字段、%(files)d 个文件），请分批提交。")
            % {
                "fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 0,
                "files": settings.DATA_UPLOAD_MAX_NUMBER_FILES or 0,
            }
        )
    if isinstance(exc, RecursionError):
        exc = exceptions.ParseError(_("JSON 嵌套层级过深，无法解析。"))
    if isinstance(exc, (UnicodeDecodeError, ValueError)) and "\x00" in repr(exc):
        exc = exceptions.ParseError(_("请求中含有空字符（NUL），请删除后重试。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"code": "server_error", "message": _("服务器内部错误，请稍后重试；问题已记录。")},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        message = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
        )
        response.data = {"code": "invalid", "message": message, "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "code": getattr(detail, "code", exc.default_code),
            "message": str(detail),
        }
    return response
