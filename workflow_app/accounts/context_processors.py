from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def admin_calendar_warning(request: HttpRequest) -> dict[str, Any]:
    """On the admin's pages, the years whose official calendar is missing (deadlines in them are
    provisional, weekends only) — the same finding as the system check ``workdays.W001``."""
    if not request.path.startswith("/admin/"):
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    from django.db import DatabaseError

    from workflow_app.workdays.checks import uncovered_years

    try:
        return {"calendar_uncovered_years": uncovered_years()}
    except DatabaseError:
        return {}
