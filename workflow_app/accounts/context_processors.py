from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from workflow_app.compiled import CompiledRows


def _unread(user_id: int) -> Any:
    from django.db.models import Count

    from notifications.models import Notification

    return (
        Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("n")
    )


# every signed-in page's count of unread messages, compiled once (workflow_app/compiled.py)
_UNREAD = CompiledRows(_unread, int)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        rows = _UNREAD(user.pk)
        unread = rows[0][0] if rows else 0
    return {"unread_notifications": unread}


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
