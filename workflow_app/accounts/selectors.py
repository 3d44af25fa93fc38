"""Reads on users that several apps need (notifications resolve queue recipients here)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import QUEUE_CENTRE, QUEUE_SUPERVISORS, Role, User


def users_for_queue(queue: str) -> QuerySet[User]:
    """Active users who work the task group ``queue``.

    ``"centre"`` → centre caseworkers; ``"supervisors"`` → supervisors; ``"dept:CODE"`` →
    caseworkers of that department. Unknown codes give an empty queryset.
    """
    active = User.objects.filter(is_active=True)
    if queue == QUEUE_CENTRE:
        return active.filter(role=Role.CENTRE).order_by("id")
    if queue == QUEUE_SUPERVISORS:
        return active.filter(role=Role.SUPERVISOR).order_by("id")
    if queue.startswith("dept:") and queue[5:]:
        return active.filter(role=Role.DEPARTMENT, department__code=queue[5:]).order_by("id")
    return User.objects.none()


def queues_for(user: User) -> list[str]:
    """The task groups whose unclaimed tasks ``user`` may claim."""
    if not getattr(user, "is_authenticated", False):
        return []
    return user.queues()
