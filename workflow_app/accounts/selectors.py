"""Reads on users that several apps need (notifications resolve queue recipients here)."""

from __future__ import annotations

from django.db.models import QuerySet

from workflow_app.compiled import CompiledQuery

from .models import QUEUE_CENTRE, QUEUE_SUPERVISORS, Role, User

# the reads behind a task group's members, compiled once per connection (every filing and
# every routed step notifies a queue)
_WITH_ROLE: CompiledQuery[User] = CompiledQuery(
    lambda role: User.objects.filter(is_active=True, role=role).order_by("id"), str
)
_OF_DEPARTMENT: CompiledQuery[User] = CompiledQuery(
    lambda code: User.objects.filter(
        is_active=True, role=Role.DEPARTMENT, department__code=code
    ).order_by("id"),
    str,
)


def _members_read(queue: str) -> tuple[CompiledQuery[User], str] | None:
    if queue == QUEUE_CENTRE:
        return _WITH_ROLE, Role.CENTRE
    if queue == QUEUE_SUPERVISORS:
        return _WITH_ROLE, Role.SUPERVISOR
    if queue.startswith("dept:") and queue[5:]:
        return _OF_DEPARTMENT, queue[5:]
    return None


def users_for_queue(queue: str) -> QuerySet[User]:
    """Active users who work the task group ``queue``.

    ``"centre"`` → centre caseworkers; ``"supervisors"`` → supervisors; ``"dept:CODE"`` →
    caseworkers of that department. Unknown codes give an empty queryset.
    """
    read = _members_read(queue)
    return read[0].build(read[1]) if read else User.objects.none()


def queue_members(queue: str) -> list[User]:
    """``users_for_queue(queue)``'s users, read with the compiled query."""
    read = _members_read(queue)
    return read[0](read[1]) if read else []


def queues_for(user: User) -> list[str]:
    """The task groups whose unclaimed tasks ``user`` may claim."""
    if not getattr(user, "is_authenticated", False):
        return []
    return user.queues()
