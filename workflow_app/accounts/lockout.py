"""What a locked-out login gets (django-axes ``AXES_LOCKOUT_CALLABLE``): 429 and when to retry —
JSON for the API, the login page with a message for people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "登录失败次数过多，该账户或本机地址已被暂时锁定，请 %(m)d 分钟后再试；"
        "如忘记密码，请联系系统管理员。"
    ) % {"m": minutes}


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    retry = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "locked_out", "message": lockout_message()}, status=429
        )
    else:
        from .forms import LoginForm

        response = render(
            request,
            "registration/login.html",
            {"form": LoginForm(request), "lockout_message": lockout_message()},
            status=429,
        )
    response["Retry-After"] = retry
    return response
