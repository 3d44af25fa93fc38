"""Notifications (SPEC §9): outbox rows written with the change they report, delivered by a worker
after the commit, exactly once per (event, recipient, channel); and the reminder / escalation
sweeps over the deadline table.

Exactly once: ``deliver`` locks the outbox row, sends, and marks it sent in the same transaction,
so a second run (a duplicate message, a retry, the redelivery sweep) finds it sent and does
nothing. The in-app notification has its own unique (event_key, recipient) constraint as well.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow_app.accounts.models import QUEUE_SUPERVISORS, Role, User
from workflow_app.accounts.selectors import queue_members
from workflow_app.api import NotFound
from workflow_app.audit.services import AuditEntry, audit_append_many, audit_heads_locked
from workflow_app.publish import publish_ids
from workflow_app.registry.bulk import where_in
from workflow_app.workdays.models import Deadline
from workflow_app.writes import insert_rows

from .events import render, step_label
from .models import Channel, Delivery, Notification
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
ENQUEUE_CHUNK = 500


class DeliveryRetry(Exception):
    """A delivery attempt failed and was recorded; the task should retry it later."""


# --- outbox ---------------------------------------------------------------------------------------


def _enqueue(ids: list[int]) -> int:
    """Hand ids to the workers; returns how many went. Runs after commit; if the broker is
    unreachable the rows stay pending and the redelivery sweep queues them again
    (``workflow_app.publish``)."""
    from .tasks import deliver_pending

    return publish_ids(deliver_pending, ids, chunk=ENQUEUE_CHUNK, what="notification deliveries")


def _json_safe(context: dict[str, Any]) -> dict[str, Any]:
    """Lazy translations, dates and decimals become text, so the outbox row stores plain JSON."""
    return json.loads(json.dumps(context, ensure_ascii=False, default=str))


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
    """Write outbox rows for every recipient and channel in the caller's transaction and queue
    their delivery for after the commit (nothing is sent if the transaction rolls back).

    E-mail only goes to users with an address, SMS only to users with a phone number. A stable
    ``key`` (e.g. ``f"reminder:{deadline.id}"``) makes a repeated call a no-op. Returns the number
    of rows queued."""
    return notify_many(
        [
            Notice(
                event=event,
                recipients=recipients,
                context=context,
                case_kind=case_kind,
                case_id=case_id,
                key=key,
                url=url,
                channels=channels,
            )
        ]
    )


@dataclass(frozen=True)
class Notice:
    """One event for :func:`notify_many`; the fields are ``notify``'s arguments."""

    event: str
    recipients: Iterable[User]
    context: dict[str, Any]
    case_kind: str = ""
    case_id: int | None = None
    key: str | None = None
    url: str = ""
    channels: tuple[str, ...] = ("inapp", "email", "sms")


def _rows_of(notice: Notice) -> list[Delivery]:
    event_key = (
        notice.key or f"{notice.event}:{notice.case_kind}:{notice.case_id}:{uuid.uuid4().hex}"
    )
    ctx = _json_safe({**notice.context, "_url": notice.url})
    rows: list[Delivery] = []
    for user in {u.pk: u for u in notice.recipients}.values():
        for channel in notice.channels:
            if channel not in Channel.values:
                raise ValueError(f"unknown notification channel {channel!r}")
            if channel == Channel.EMAIL and not user.email:
                continue
            if channel == Channel.SMS and not getattr(user, "phone", ""):
                continue
            rows.append(
                Delivery(
                    event_key=event_key,
                    event=notice.event,
                    recipient=user,
                    channel=channel,
                    context=ctx,
                    case_kind=notice.case_kind,
                    case_id=notice.case_id,
                )
            )
    return rows


def notify_many(notices: Iterable[Notice]) -> int:
    """``notify`` for several events at once — what a batch does (an import announcing a
    thousand new records to their subjects): every outbox row in one ``INSERT`` per thousand
    rows, and, where keys are given, their ids read back in one query, instead of two statements
    per event. Returns the number of rows queued."""
    rows: list[Delivery] = []
    keys: set[str] = set()
    for notice in notices:
        rows += _rows_of(notice)
        if notice.key is not None:
            keys.add(notice.key)
    if not rows:
        return 0
    with transaction.atomic(savepoint=False):
        ids: list[int] = []
        if not keys:  # fresh event keys: nothing to conflict with, the ids come back
            for start in range(0, len(rows), 1000):
                part = rows[start : start + 1000]
                if not insert_rows(part):  # (SQL built once; the ORM's bulk_create elsewhere)
                    Delivery.objects.bulk_create(part, batch_size=1000)
            ids = [r.pk for r in rows if r.pk is not None]
        if len(ids) != len(rows):
            # a repeated key writes nothing new; its rows still pending are queued again
            # (deliver sends each once; the ids read back may include a pending row of one of
            # these keys for another of these recipients — queued again, sent once)
            Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            pending = Delivery.objects.filter(
                recipient__in={r.recipient_id for r in rows}, status=Delivery.Status.PENDING
            ).values_list("id", flat=True)
            ids = sorted(where_in(pending, "event_key", {r.event_key for r in rows}))
        if ids:
            _enqueue_after_commit(ids)
    return len(ids)


class _TransactionIds(list):  # type: ignore[type-arg]
    """The outbox ids one transaction wrote, handed to the workers in one message at commit."""


def _enqueue_after_commit(ids: list[int]) -> None:
    """One broker message per transaction: a filing notifies the applicant and the centre's
    queue, each a ``notify`` call; the second call's ids join the first call's pending message.
    (Ids written inside a savepoint that is later rolled back may ride along: their rows are
    gone and ``deliver`` answers ``missing``. A message registered inside such a savepoint is
    dropped by Django with it, and the next call registers a new one.)"""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if getattr(func, "func", None) is not _enqueue:
                continue
            pending = func.args[0]  # type: ignore[attr-defined]
            if isinstance(pending, _TransactionIds):
                pending.extend(ids)
                return
    transaction.on_commit(partial(_enqueue, _TransactionIds(ids)), robust=True)


def queue_recipients(queue: str) -> list[User]:
    """Who a task group's notifications reach: its active members; the supervisors' group
    falls back to the administrators when it has no member."""
    recipients = queue_members(queue)
    if not recipients and queue == QUEUE_SUPERVISORS:
        recipients = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id"))
    return recipients


def notify_queue(
    *,
    queue: str,
    event: str,
    context: dict[str, Any],
    case_kind: str = "",
    case_id: int | None = None,
    key: str | None = None,
    url: str = "",
    channels: tuple[str, ...] = ("inapp", "email", "sms"),
) -> int:
    """``notify`` the active users of a task group: ``"centre"``, ``"supervisors"`` (the
    administrators when there is no supervisor) or ``"dept:CODE"``."""
    return notify(
        event=event,
        recipients=queue_recipients(queue),
        context=context,
        case_kind=case_kind,
        case_id=case_id,
        key=key,
        url=url,
        channels=channels,
    )


def _send(d: Delivery, title: str, body: str) -> None:
    user = d.recipient
    link = d.context.get("_url", "")
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
                "url": link[:300],
            },
        )
    elif d.channel == Channel.EMAIL:
        text = f"{body}\n\n{settings.SITE_URL}{link}" if link else body
        # one Message-ID per outbox row: should a worker die after the mail server took the
        # message and before the row was marked sent, the resend carries the same id and mail
        # systems treat it as the same message
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        EmailMessage(
            title, text, None, [user.email], headers={"Message-ID": f"<delivery-{d.pk}@{host}>"}
        ).send(fail_silently=False)
    elif d.channel == Channel.SMS:
        get_sms_backend().send(user.phone, f"{title}：{body}")  # type: ignore[attr-defined]
    else:
        raise ValueError(f"unknown channel {d.channel!r}")


def deliver(delivery_id: int) -> str:
    """Deliver one outbox row once; running it again changes nothing. Returns the row's status
    (``sent``, ``failed`` after the last attempt, ``missing``). A failed attempt is recorded
    (attempts, last error) and raises ``DeliveryRetry`` so the task retries later."""
    error: Exception | None = None
    with transaction.atomic():
        d = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=delivery_id)
            .first()
        )
        if d is None:
            return "missing"
        if d.status != Delivery.Status.PENDING:
            return d.status
        title, body = render(d.event, d.context, getattr(d.recipient, "language", "") or "")
        d.attempts += 1
        try:
            with transaction.atomic():  # a failed in-app insert must not poison the outer block
                _send(d, title, body)
        except Exception as exc:  # noqa: BLE001 - recorded and retried
            error = exc
            d.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if d.attempts >= MAX_ATTEMPTS:
                d.status = Delivery.Status.FAILED
                logger.error("delivery %s failed for good: %s", d.pk, d.last_error)
            d.save(update_fields=["attempts", "last_error", "status"])
        else:
            d.status = Delivery.Status.SENT
            d.sent_at = timezone.now()
            d.save(update_fields=["status", "attempts", "sent_at"])
    if error is not None and d.status == Delivery.Status.PENDING:
        raise DeliveryRetry(f"delivery {d.pk} attempt {d.attempts}: {error}") from error
    return d.status


def redeliver_pending(*, older_than_seconds: int = 60, limit: int = 1000) -> int:
    """Sweep: queue again outbox rows still pending after ``older_than_seconds`` (a lost
    message, a broker outage at commit time, a dead worker); returns how many were queued.
    ``deliver`` skips rows that are sent meanwhile, so this never sends twice."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return _enqueue(ids) if ids else 0


# --- inbox ----------------------------------------------------------------------------------------


def inbox_mark_read(*, notification: Notification, user: User) -> Notification:
    """Mark one of the user's notifications read (reading it again changes nothing)."""
    if notification.recipient_id != user.pk:
        raise NotFound(_("未找到该通知，或它不属于您。"))
    with transaction.atomic():
        now = timezone.now()
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
    if changed:
        notification.read_at = now
    else:
        notification.refresh_from_db(fields=["read_at"])
    return notification


def inbox_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    with transaction.atomic():
        return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )


# --- reminder and escalation sweeps ---------------------------------------------------------------


def _deadline_context(d: Deadline) -> dict[str, Any]:
    return {
        "reference": d.case_reference or f"{d.case_kind}#{d.case_id}",
        "step": step_label(d.kind),
        "step_kind": d.kind,  # re-labelled in the recipient's language by render()
        "due_at": timezone.localtime(d.due_at).strftime("%Y-%m-%d %H:%M"),
        "queue": d.queue or "—",
        "assignee": d.assignee.username if d.assignee is not None else "—",
    }


def _case_url(case_kind: str, case_id: int) -> str:
    """The case page, by the convention ``<case_kind>-detail`` (empty when there is none)."""
    try:
        return reverse(f"{case_kind}-detail", args=[case_id])
    except NoReverseMatch:
        return ""


SWEEP_CHUNK = 200  # due deadlines claimed, announced and recorded in one transaction


def _sweep(
    *,
    candidates: list[tuple[int, str, int]],
    field: str,
    now: datetime.datetime,
    conditions: dict[str, Any],
    event: str,
    audit_event: str,
    recipients: Any,
    record_recipients: bool,
) -> int:
    """Claim the due deadlines among ``candidates`` (id, case kind, case id), ``SWEEP_CHUNK`` in
    one transaction: their cases' audit heads and the deadline rows are locked without waiting
    (a row another worker or a transition holds is left for the next run — never sent twice,
    never a deadlock; only a chain head another transaction is creating at that moment, a
    case's very first entry, is waited for), the rows still open and unclaimed get ``field``
    set, and each one's notification ``event`` to ``recipients(deadline)`` (keyed by the event
    and the deadline) and its ``audit_event`` entry on the case are written together
    (``notify_many``, ``audit_append_many``). Returns how many were claimed; running it again
    claims nothing new."""
    done = 0
    for start in range(0, len(candidates), SWEEP_CHUNK):
        chunk = candidates[start : start + SWEEP_CHUNK]
        with transaction.atomic():
            heads = audit_heads_locked(
                (f"{kind}:{case_id}" for _pk, kind, case_id in chunk), skip_locked=True
            )
            free = [pk for pk, kind, case_id in chunk if f"{kind}:{case_id}" in heads]
            claimed = list(
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("assignee")
                .filter(
                    pk__in=free,
                    status=Deadline.Status.OPEN,
                    **{f"{field}__isnull": True},
                    **conditions,
                )
                .order_by("pk")
            )
            if not claimed:
                continue
            Deadline.objects.filter(pk__in=[d.pk for d in claimed]).update(**{field: now})
            notices: list[Notice] = []
            entries: list[AuditEntry] = []
            for d in claimed:
                people = recipients(d)
                ctx = _deadline_context(d)
                notices.append(
                    Notice(
                        event=event,
                        recipients=people,
                        context=ctx,
                        case_kind=d.case_kind,
                        case_id=d.case_id,
                        key=f"{audit_event}:{d.pk}",
                        url=_case_url(d.case_kind, d.case_id),
                    )
                )
                data: dict[str, Any] = {
                    "msg": event,
                    "params": {"step_kind": d.kind, "due": ctx["due_at"]},
                    "deadline_id": d.pk,
                    "kind": d.kind,
                    "due_at": d.due_at.isoformat(),
                }
                if record_recipients:
                    data["recipients"] = [u.username for u in people]
                entries.append(
                    {
                        "case_kind": d.case_kind,
                        "case_id": d.case_id,
                        "event": audit_event,
                        "data": data,
                        "at": now,
                    }
                )
            notify_many(notices)
            audit_append_many(entries, heads=heads)
            done += len(claimed)
    return done


def _due(qs: Any, order: tuple[str, ...], limit: int) -> list[tuple[int, str, int]]:
    """The due rows' (id, case kind, case id): only the rows about to be claimed are read."""
    return list(qs.order_by(*order).values_list("id", "case_kind", "case_id")[:limit])


def sweep_reminders(*, now: datetime.datetime | None = None, limit: int = 5000) -> int:
    """Remind once before each open deadline: the assignee, or the task group while nobody holds
    the task. The reminder is recorded on the case's timeline. Returns how many were sent;
    running it again sends nothing new."""
    now = now or timezone.now()
    candidates = _due(
        Deadline.objects.filter(
            status=Deadline.Status.OPEN,
            reminded_at__isnull=True,
            remind_at__lte=now,
            due_at__gt=now,
        ),
        ("remind_at", "id"),
        limit,
    )
    members: dict[str, list[User]] = {}

    def recipients(d: Deadline) -> list[User]:
        if d.assignee is not None:
            return [d.assignee]
        if not d.queue:
            return []
        if d.queue not in members:
            members[d.queue] = queue_members(d.queue)
        return members[d.queue]

    return _sweep(
        candidates=candidates,
        field="reminded_at",
        now=now,
        conditions={"due_at__gt": now},
        event="deadline.reminder",
        audit_event="reminder",
        recipients=recipients,
        record_recipients=True,
    )


def sweep_escalations(*, now: datetime.datetime | None = None, limit: int = 5000) -> int:
    """Escalate each overdue staff task to the supervisors once, recorded on the case. Periods
    the applicant owes (queue ``applicant…``, e.g. supplements) lapse instead of escalating.
    Returns how many were escalated; running it again sends nothing new."""
    now = now or timezone.now()
    candidates = _due(
        Deadline.objects.filter(
            status=Deadline.Status.OPEN, escalated_at__isnull=True, due_at__lt=now
        ).exclude(queue__startswith="applicant"),
        ("due_at", "id"),
        limit,
    )
    supervisors: list[User] = []

    def recipients(d: Deadline) -> list[User]:
        if not supervisors:
            supervisors.extend(queue_recipients(QUEUE_SUPERVISORS))
        return supervisors

    return _sweep(
        candidates=candidates,
        field="escalated_at",
        now=now,
        conditions={"due_at__lt": now},
        event="deadline.escalated",
        audit_event="escalation",
        recipients=recipients,
        record_recipients=False,
    )


# --- case notifications (every case kind) ---------------------------------------------------------


def case_context(case: Any, **extra: Any) -> dict[str, Any]:
    """The placeholders every case event text may use, plus the event's own (as text)."""
    record = getattr(case, "record", None)
    ctx: dict[str, Any] = {
        "reference": case.reference,
        "record_title": record.title if record is not None else "",
        "matter_title": getattr(case, "matter_title", ""),
        "subject": case.subject.name,
        "status": case.status,
    }
    if hasattr(case, "kind") and isinstance(case.kind, str):
        ctx["kind"] = case.kind
    ctx.update({k: str(v) for k, v in extra.items()})
    return ctx


def notify_case(
    case: Any,
    event: str,
    *,
    recipients: Iterable[User] | None = None,
    queue: str | None = None,
    url: str | None = None,
    channels: tuple[str, ...] = ("inapp", "email", "sms"),
    **extra: Any,
) -> int:
    """Notify about a case: its applicant (default), given people, or a task group; the link
    goes to the case page unless another is given."""
    common: dict[str, Any] = {
        "event": event,
        "context": case_context(case, **extra),
        "case_kind": case.CASE_KIND,
        "case_id": case.pk,
        "url": url if url is not None else _case_url(case.CASE_KIND, case.pk),
        "channels": channels,
    }
    if queue is not None:
        return notify_queue(queue=queue, **common)
    people = (
        list(recipients) if recipients is not None else [User.objects.get(pk=case.applicant_id)]
    )
    return notify(recipients=people, **common)
