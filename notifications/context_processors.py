"""The navigation's count of the reader's unread messages, on every signed-in page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest

from workflow_app.compiled import CompiledRows

from .models import Notification

# one GROUP BY row (none when nothing is unread), compiled once (workflow_app/compiled.py)
_UNREAD = CompiledRows(
    lambda user_id: (
        Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("n")
    ),
    int,
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        rows = _UNREAD(user.pk)
        unread = rows[0][0] if rows else 0
    return {"unread_notifications": unread}
