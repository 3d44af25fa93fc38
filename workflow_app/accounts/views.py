"""Login and the role-specific home page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from workflow_app.cases.hooks import home_counts, home_sections

from .forms import LoginForm
from .models import Role

DEMO_USERNAMES = (
    "applicant",
    "applicant2",
    "centre",
    "dept_samr",
    "dept_emb",
    "dept_tax",
    "supervisor",
    "admin",
)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"

    def get_redirect_url(self) -> str:
        """Never back to the login form itself (the header's 登录 on the login page)."""
        url = super().get_redirect_url()
        return "" if url.startswith(reverse(settings.LOGIN_URL)) else url

    authentication_form = LoginForm
    redirect_authenticated_user = False  # True loops when "next" is forbidden to this user

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_usernames"] = DEMO_USERNAMES if settings.DEMO_MODE else ()
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default); GET answers 405."""


def _report_url(subject: Any) -> str:
    for name in ("report", "report-detail", "subject-report"):
        try:
            return reverse(name, args=[subject.identifier])
        except NoReverseMatch:
            continue
    return f"/report/{subject.identifier}/"


def _queue_counts(user: Any) -> dict[str, int]:
    counts = {"open": 0, "overdue": 0, "due_soon": 0}
    counts.update(home_counts(user))
    return counts


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "accounts/home_public.html")
    context: dict[str, Any] = {
        "role": user.role,  # type: ignore[union-attr]
        "notifications": list(user.notifications.order_by("-created_at", "-id")[:5]),  # type: ignore[union-attr]
    }
    if user.role == Role.APPLICANT:  # type: ignore[union-attr]
        subject = user.subject  # type: ignore[union-attr]
        context["subject"] = subject
        context["report_url"] = _report_url(subject) if subject is not None else ""
        return render(request, "accounts/home_applicant.html", context)
    context["counts"] = _queue_counts(user)
    context["department"] = user.department  # type: ignore[union-attr]
    context["sections"] = home_sections(user)
    return render(request, "accounts/home_staff.html", context)
