"""Notifications: outbox rows written with the change, delivered after commit, exactly once per
(event, recipient, channel); and the reminder / escalation sweeps over the deadline table."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow_app.accounts.models import QUEUE_SUPERVISORS, User
from workflow_app.accounts.selectors import users_for_queue
from workflow_app.audit.services import audit_append
from workflow_app.workdays.models import Deadline

from .events import render
from .models import Channel, Delivery, Notification
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
ALL_CHANNELS = (Channel.INAPP, Channel.EMAIL, Channel.SMS)


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_task

    for delivery_id in ids:
        deliver_task.delay(delivery_id)


def notify(
    *,
    event: str,
    recipients: Iterable[User],
    context: dict[str, Any],
    case_kind: str = "",
    case_id: int | None = None,
    key: str | None = None,
    url: str = "",
    channels: tuple[str, ...] = ("inapp", "email", "sms"),
) -> int:
    """Write outbox rows for every recipient and channel (in the caller's transaction) and queue
    their delivery for after the commit. A stable ``key`` makes a repeated call a no-op."""
    event_key = key or f"{event}:{case_kind}:{case_id}:{uuid.uuid4().hex}"
    ctx = {**context, "_url": url}
    rows = []
    for user in {u.pk: u for u in recipients}.values():
        for channel in channels:
            if channel == Channel.EMAIL and not user.email:
                continue
            if channel == Channel.SMS and not user.phone:
                continue
            rows.append(
                Delivery(
                    event_key=event_key,
                    event=event,
                    recipient=user,
                    channel=channel,
                    context=ctx,
                    case_kind=case_kind,
                    case_id=case_id,
                )
            )
    if not rows:
        return 0
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            Delivery.objects.filter(
                event_key=event_key, status=Delivery.Status.PENDING
            ).values_list("id", flat=True)
        )
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def notify_queue(*, queue: str, **kwargs: Any) -> int:
    recipients = list(users_for_queue(queue))
    if not recipients and queue == QUEUE_SUPERVISORS:
        recipients = list(User.objects.filter(role="admin", is_active=True))
    return notify(recipients=recipients, **kwargs)


def deliver(delivery_id: int) -> str:
    """Deliver one outbox row; running it again changes nothing."""
    with transaction.atomic():
        d = (
            Delivery.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=delivery_id)
            .first()
        )
        if d is None:
            return "missing"
        if d.status != Delivery.Status.PENDING:
            return d.status
        user = d.recipient
        title, body = render(d.event, d.context, user.language)
        try:
            if d.channel == Channel.INAPP:
                Notification.objects.get_or_create(
                    event_key=d.event_key,
                    recipient=user,
                    defaults={
                        "event": d.event,
                        "title": title[:200],
                        "body": body,
                        "case_kind": d.case_kind,
                        "case_id": d.case_id,
                        "url": d.context.get("_url", ""),
                    },
                )
            elif d.channel == Channel.EMAIL:
                from django.conf import settings

                link = d.context.get("_url", "")
                text = f"{body}\n\n{settings.SITE_URL}{link}" if link else body
                send_mail(title, text, None, [user.email], fail_silently=False)
            elif d.channel == Channel.SMS:
                get_sms_backend().send(user.phone, f"【信用业务】{title}：{body}")
        except Exception as exc:
            d.attempts += 1
            d.last_error = repr(exc)[:2000]
            if d.attempts >= MAX_ATTEMPTS:
                d.status = Delivery.Status.FAILED
            d.save(update_fields=["attempts", "last_error", "status"])
            if d.status == Delivery.Status.FAILED:
                logger.error("delivery %s failed for good: %s", d.pk, exc)
                return d.status
            raise DeliveryRetry(str(exc)) from exc
        d.status = Delivery.Status.SENT
        d.attempts += 1
        d.sent_at = timezone.now()
        d.save(update_fields=["status", "attempts", "sent_at"])
        return d.status


class DeliveryRetry(Exception):
    """A delivery failed and should be retried (the attempt is recorded)."""


def redeliver_pending(*, older_than_seconds: int = 60, limit: int = 1000) -> int:
    """Sweep: re-queue outbox rows that were never delivered (a lost message, a dead worker)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    _enqueue(ids)
    return len(ids)


def inbox_mark_read(*, notification: Notification, user: User) -> None:
    if notification.recipient_id != user.pk:
        from workflow_app.api import NotFound

        raise NotFound(_("通知不存在。"))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def inbox_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- sweeps -------------------------------------------------------------------------------------

STEP_LABELS = {
    "objection_intake": _("异议受理"),
    "objection_platform_check": _("异议平台核查"),
    "objection_verification": _("异议信源单位核查"),
    "objection_supplement": _("异议补正"),
}


def _claim(qs: Any, field: str, now: datetime.datetime, limit: int) -> list[Deadline]:
    """Claim due rows atomically so two workers never send the same reminder twice."""
    with transaction.atomic():
        rows = list(
            qs.select_for_update(skip_locked=True).select_related("assignee").order_by("id")[:limit]
        )
        if rows:
            Deadline.objects.filter(pk__in=[r.pk for r in rows], **{f"{field}__isnull": True}).update(
                **{field: now}
            )
    return rows


def _deadline_context(d: Deadline) -> dict[str, Any]:
    return {
        "reference": d.case_reference or f"{d.case_kind}#{d.case_id}",
        "step": str(STEP_LABELS.get(d.kind, d.kind)),
        "due_at": timezone.localtime(d.due_at).strftime("%Y-%m-%d %H:%M"),
        "queue": d.queue,
        "assignee": d.assignee.username if d.assignee_id else "—",  # type: ignore[union-attr]
    }


def _case_url(d: Deadline) -> str:
    if d.case_kind == "objection":
        return f"/objections/{d.case_id}/"
    return ""


def sweep_reminders(*, now: datetime.datetime | None = None, limit: int = 5000) -> int:
    """Remind the assignee (or the group while nobody holds the task) once before a deadline."""
    now = now or timezone.now()
    due = Deadline.objects.filter(
        status=Deadline.Status.OPEN, reminded_at__isnull=True, remind_at__lte=now, due_at__gt=now
    )
    rows = _claim(due, "reminded_at", now, limit)
    for d in rows:
        with transaction.atomic():
            if d.assignee_id:
                recipients: list[User] = [d.assignee]  # type: ignore[list-item]
            elif d.queue.startswith("applicant"):
                recipients = []
            else:
                recipients = list(users_for_queue(d.queue))
            notify(
                event="deadline.reminder",
                recipients=recipients,
                context=_deadline_context(d),
                case_kind=d.case_kind,
                case_id=d.case_id,
                key=f"reminder:{d.pk}",
                url=_case_url(d),
                channels=("inapp", "email"),
            )
            audit_append(
                case_kind=d.case_kind,
                case_id=d.case_id,
                event="reminder",
                actor=None,
                reason=_("期限“%(step)s”将于 %(due)s 到期，已提醒。")
                % {"step": STEP_LABELS.get(d.kind, d.kind), "due": _deadline_context(d)["due_at"]},
                data={"deadline_id": d.pk, "kind": d.kind},
            )
    return len(rows)


def sweep_escalations(*, now: datetime.datetime | None = None, limit: int = 5000) -> int:
    """Flag overdue staff tasks and escalate each to the supervisors once, recorded on the case.
    The applicant's own periods (supplements) lapse instead and are not escalated."""
    now = now or timezone.now()
    overdue = Deadline.objects.filter(
        status=Deadline.Status.OPEN, escalated_at__isnull=True, due_at__lt=now
    ).exclude(queue__startswith="applicant")
    rows = _claim(overdue, "escalated_at", now, limit)
    for d in rows:
        with transaction.atomic():
            notify_queue(
                queue=QUEUE_SUPERVISORS,
                event="deadline.escalated",
                context=_deadline_context(d),
                case_kind=d.case_kind,
                case_id=d.case_id,
                key=f"escalation:{d.pk}",
                url=_case_url(d),
                channels=("inapp", "email"),
            )
            audit_append(
                case_kind=d.case_kind,
                case_id=d.case_id,
                event="escalation",
                actor=None,
                reason=_("期限“%(step)s”已于 %(due)s 逾期，已上报主管。")
                % {"step": STEP_LABELS.get(d.kind, d.kind), "due": _deadline_context(d)["due_at"]},
                data={"deadline_id": d.pk, "kind": d.kind, "due_at": d.due_at.isoformat()},
            )
    return len(rows)
