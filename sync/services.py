"""Synchronisation services.

Event body (``POST`` to each target's URL, ``Content-Type: application/json``, headers
``Authorization: Bearer <token>`` and ``Idempotency-Key: <event_id>``)::

    {
      "event": "record.repaired",            # record.created | record.corrected | record.repaired
                                             # | record.republished | record.deleted
                                             # | record.expired
      "event_id": "4f0c…",                   # the same for every target of one change
      "occurred_at": "2026-12-02T10:00:00+08:00",
      "record": {"id", "external_id", "version", "department", "category", "nature",
                 "severity", "title", "status", "publicity_end",
                 "subject": {"kind", "identifier", "name"}},   # natural persons: masked id, name
      "case": {"kind", "id", "reference", "decision_code"} | null
    }

Delivery is at least once per row and the receiver de-duplicates by ``Idempotency-Key``, which
makes each change arrive once. The HTTP call runs outside any database lock: a worker first
*claims* the row with a conditional UPDATE that moves ``next_attempt_at`` a lease into the future
(another worker or the sweep cannot claim it meanwhile), commits, calls the target, then records
the outcome. A worker killed during the call leaves the row pending; when the lease runs out the
sweep queues it again and the same key is sent.
"""

from __future__ import annotations

import datetime
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Notice, notify_many, queue_recipients
from workflow_app.accounts.models import QUEUE_SUPERVISORS
from workflow_app.compiled import CompiledQuery
from workflow_app.publish import publish_ids
from workflow_app.registry.bulk import insert_values, where_in
from workflow_app.registry.models import CreditRecord, Subject, SubjectKind
from workflow_app.workdays.calendar import add_working_days
from workflow_app.workdays.policy import current_policy

from .models import SyncEvent, SyncTarget

logger = logging.getLogger(__name__)

EVENTS = {
    "created": "record.created",
    "corrected": "record.corrected",
    "repaired": "record.repaired",
    "published": "record.republished",
    "deleted": "record.deleted",
    "expired": "record.expired",
}
# what each event is called where people read it (the overdue list): the codes are for machines
EVENT_LABELS = {
    "record.created": _("新增记录"),
    "record.corrected": _("记录更正"),
    "record.repaired": _("信用修复"),
    "record.republished": _("恢复公示"),
    "record.deleted": _("记录删除"),
    "record.expired": _("公示期满"),
}
LEASE = datetime.timedelta(seconds=60)
MAX_ATTEMPTS = 8
WRITE_CHUNK = 1000  # records whose rows are built and written together
ENQUEUE_CHUNK = 100  # rows per message: a worker delivers them one after another
TIMEOUT_SECONDS = 10


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _subject(kind: str, identifier: str, display: str, name: str) -> dict[str, Any]:
    """A subject as the other platform sees it: a natural person's masked identifier only."""
    shown = display if kind == SubjectKind.NATURAL_PERSON else identifier
    return {"kind": kind, "identifier": shown, "name": name}


def _subjects_of(records: list[Any]) -> dict[int, dict[str, Any]]:
    """Each record's subject as sent, in one query for those not already loaded (an import
    announces thousands of new rows that carry only their subject's id)."""
    field = CreditRecord.subject.field
    found: dict[int, dict[str, Any]] = {}
    for record in records:
        if field.is_cached(record):
            s = record.subject
            found[s.pk] = _subject(s.kind, s.identifier, s.identifier_display, s.name)
    missing = {r.subject_id for r in records} - found.keys()
    if missing:
        rows = where_in(
            Subject.objects.values_list("pk", "kind", "identifier", "identifier_display", "name"),
            "pk",
            missing,
        )
        for pk, *values in rows:
            found[pk] = _subject(*values)
    return found


def event_payload(
    *,
    record: Any,
    change: str,
    case: dict[str, Any] | None,
    event_id: str,
    subject: dict[str, Any],
    occurred_at: str,
) -> dict[str, Any]:
    return {
        "event": EVENTS.get(change, f"record.{change}"),
        "event_id": event_id,
        "occurred_at": occurred_at,
        "record": {
            "id": record.pk,
            "external_id": record.external_id,
            "version": record.version,
            "department": record.department.code,
            "category": record.category,
            "nature": record.nature,
            "severity": record.severity,
            "title": record.title,
            "status": record.status,
            "publicity_end": record.publicity_end.isoformat() if record.publicity_end else None,
            "subject": subject,
        },
        "case": case,
    }


def _enqueue(ids: list[int]) -> int:
    """Hand row ids to the workers, ``ENQUEUE_CHUNK`` per message (after commit, and from the
    sweep); returns how many went. If the broker is unreachable the rows stay pending and the
    sweep queues them again."""
    from .tasks import deliver_sync_events

    return publish_ids(deliver_sync_events, ids, chunk=ENQUEUE_CHUNK, what="synchronisation events")


# read on every change of a public record (an approval, a correction, an import), compiled once
# (workflow_app/compiled.py)
_ENABLED_TARGETS = CompiledQuery(lambda: SyncTarget.objects.filter(enabled=True))


@dataclass(frozen=True)
class Change:
    """A public change being announced: what changed, its one moment (as sent and as stored),
    the synchronisation deadline and the case behind it."""

    change: str
    occurred_at: str
    now: datetime.datetime
    due: datetime.datetime
    case: dict[str, Any] | None


def sync_enqueue(*, records: list[Any], change: str, case: dict[str, Any] | None = None) -> int:
    """One outbox row per enabled target and record, in the caller's transaction; delivery is
    queued for after the commit. Returns how many rows were written."""
    targets = _ENABLED_TARGETS()
    if not targets or not records:
        return 0
    now = timezone.now()
    announced = Change(
        change=change,
        occurred_at=timezone.localtime(now).isoformat(),  # one moment for the whole change
        now=now,
        due=add_working_days(now, int(current_policy()[1]["sync_days"])).due_at,
        case=case,
    )
    if connection.vendor == "postgresql":
        ids = _insert_events_sql(records, targets, announced)
    else:
        ids = _insert_events(records, targets, announced)
    transaction.on_commit(partial(_enqueue, ids), robust=True)
    return len(ids)


def _insert_events(records: list[Any], targets: list[SyncTarget], announced: Change) -> list[int]:
    """The rows built here, each payload by :func:`event_payload` (SQLite; on PostgreSQL the
    same rows are built by the database, :func:`_insert_events_sql`)."""
    case, now = announced.case, announced.now
    subjects = _subjects_of(records)
    case_kind, case_id = (case or {}).get("kind", ""), (case or {}).get("id")
    ids: list[int] = []
    # a slice at a time: an import's 5,000 payloads built at once held ~25 MB more in the worker
    for start in range(0, len(records), WRITE_CHUNK):
        values: list[dict[str, Any]] = []
        for record in records[start : start + WRITE_CHUNK]:
            event_id = uuid.uuid4().hex
            # stored as built: the field's encoder writes what is not JSON itself (a date, a
            # lazy text) as text
            payload = event_payload(
                record=record,
                change=announced.change,
                case=case,
                event_id=event_id,
                subject=subjects[record.subject_id],
                occurred_at=announced.occurred_at,
            )
            for target in targets:
                values.append(
                    {
                        "target_id": target.pk,
                        "event": payload["event"],
                        "idempotency_key": event_id,
                        "payload": payload,
                        "record_id": record.pk,
                        "department_id": record.department_id,
                        "case_kind": case_kind,
                        "case_id": case_id,
                        "next_attempt_at": now,
                        "due_at": announced.due,
                    }
                )
        # both databases give the ids back (COPY takes them from the sequence; SQLite ≥ 3.35,
        # which the audit chain needs too, returns them from the INSERT)
        ids.extend(insert_values(SyncEvent, values))
    return ids


# PostgreSQL writes the rows of a change from the records as stored, in one statement: the
# payload of event_payload() built by jsonb_build_object (its keys, values and the masking of a
# natural person's identifier are the same — tests/sync/test_sync_sql.py compares them), an event
# id per record shared by its targets' rows. An import's 5,000 payloads cost the web worker
# ~100 ms of CPU to build, encode and COPY; here the database builds them in less.
_INSERT_EVENTS = """
WITH rec AS MATERIALIZED (
    SELECT r.id, r.external_id, r.version, r.category, r.nature, r.severity, r.title, r.status,
           r.publicity_end, r.department_id, r.subject_id, u.ord,
           replace(gen_random_uuid()::text, '-', '') AS event_id
    FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS u(id, ord)
    JOIN registry_creditrecord r ON r.id = u.id
)
INSERT INTO sync_syncevent
    (target_id, event, idempotency_key, payload, record_id, department_id, case_kind, case_id,
     status, attempts, next_attempt_at, due_at, last_error, created_at)
SELECT t.id, %(event)s::text, rec.event_id,
       jsonb_build_object(
           'event', %(event)s::text,
           'event_id', rec.event_id,
           'occurred_at', %(occurred_at)s::text,
           'record', jsonb_build_object(
               'id', rec.id,
               'external_id', rec.external_id,
               'version', rec.version,
               'department', d.code,
               'category', rec.category,
               'nature', rec.nature,
               'severity', rec.severity,
               'title', rec.title,
               'status', rec.status,
               'publicity_end', to_char(rec.publicity_end, 'YYYY-MM-DD'),
               'subject', jsonb_build_object(
                   'kind', s.kind,
                   'identifier', CASE WHEN s.kind = %(natural_person)s::text
                                      THEN s.identifier_display ELSE s.identifier END,
                   'name', s.name
               )
           ),
           'case', %(case)s::jsonb
       ),
       rec.id, rec.department_id, %(case_kind)s, %(case_id)s,
       %(pending)s, 0, %(now)s, %(due)s, '', %(now)s
FROM rec
JOIN registry_department d ON d.id = rec.department_id
JOIN registry_subject s ON s.id = rec.subject_id
CROSS JOIN unnest(%(targets)s::bigint[]) WITH ORDINALITY AS t(id, ord)
ORDER BY rec.ord, t.ord
RETURNING id
"""


def _insert_events_sql(
    records: list[Any], targets: list[SyncTarget], announced: Change
) -> list[int]:
    encoder = SyncEvent._meta.get_field("payload").encoder
    change, case = announced.change, announced.case
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENTS,
            {
                "ids": [r.pk for r in records],
                "targets": [t.pk for t in targets],
                "event": EVENTS.get(change, f"record.{change}"),
                "occurred_at": announced.occurred_at,
                "natural_person": SubjectKind.NATURAL_PERSON.value,
                "case": json.dumps(case, cls=encoder),
                "case_kind": (case or {}).get("kind", ""),
                "case_id": (case or {}).get("id"),
                "pending": SyncEvent.Status.PENDING.value,
                "now": announced.now,
                "due": announced.due,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(records) * len(targets):
        raise RuntimeError(
            "a changed record was not found to synchronise"
        )  # never: same transaction
    return ids


def sync_on_public_change(
    *, records: list[Any], change: str, case: Any = None, by: Any = None
) -> None:
    """Listener of the registry's public-change hook."""
    sync_enqueue(records=records, change=change, case=case)


def _claim(pk: int, now: datetime.datetime) -> bool:
    return bool(
        SyncEvent.objects.filter(
            pk=pk, status=SyncEvent.Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    )


def _post(target: SyncTarget, key: str, payload: dict[str, Any]) -> int:
    request = urllib.request.Request(
        target.url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {target.token}",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - administrator-registered URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def sync_deliver(event_id: int, *, now: datetime.datetime | None = None) -> str:
    """Deliver one row; running it again changes nothing. Returns ``delivered``, ``pending``
    (will be retried), ``failed`` or ``skipped`` (claimed elsewhere or already done)."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _claim(event_id, now):
            row = SyncEvent.objects.filter(pk=event_id).only("status").first()
            return (
                "skipped" if row is None or row.status == SyncEvent.Status.PENDING else row.status
            )
    row = SyncEvent.objects.select_related("target").get(pk=event_id)
    error = ""
    try:
        code = _post(row.target, row.idempotency_key, row.payload)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except Exception as exc:  # noqa: BLE001 - network errors are retried
        error = f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        row = SyncEvent.objects.select_for_update().get(pk=event_id)
        if row.status != SyncEvent.Status.PENDING:
            return row.status
        if not error:
            row.status = SyncEvent.Status.DELIVERED
            row.delivered_at = timezone.now()
            row.last_error = ""
        else:
            row.last_error = error[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = SyncEvent.Status.FAILED
            else:
                row.next_attempt_at = now + _backoff(row.attempts)
        row.save(update_fields=["status", "delivered_at", "last_error", "next_attempt_at"])
        return row.status


def sync_sweep(now: datetime.datetime | None = None, *, limit: int = 5000) -> dict[str, int]:
    """Queue rows whose retry time has come (set-based, bounded), and escalate rows past their
    deadline and still not delivered to the supervisors, once each (:func:`_escalate_overdue`)."""
    now = now or timezone.now()
    due_ids = list(
        SyncEvent.objects.filter(status=SyncEvent.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    requeued = _enqueue(due_ids) if due_ids else 0
    escalated = _escalate_overdue(now, limit)
    return {"sync_requeued": requeued, "sync_escalated": escalated}


def _escalate_overdue(now: datetime.datetime, limit: int) -> int:
    """Escalate the undelivered rows past their deadline, once each, in one transaction: the rows
    are claimed without waiting for one another transaction holds (a delivery attempt: the
    next sweep escalates it if it is still undelivered), and each run of the sweep sends the
    supervisors one notification per target — a platform unreachable for three days after an
    import of 5,000 records is one alert with the count, not 5,000 e-mails to each supervisor.
    A target with a single overdue row gets that row's own notification. Returns how many rows
    were escalated."""
    with transaction.atomic():
        rows = list(
            SyncEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due_at__lt=now, escalated_at__isnull=True)
            .exclude(status=SyncEvent.Status.DELIVERED)
            .select_related("target")
            .only("id", "target", "target__name", "due_at", "last_error", "case_kind", "case_id")
            .order_by("due_at", "id")[:limit]
        )
        if not rows:
            return 0
        claimed = [r.pk for r in rows]
        for start in range(0, len(claimed), 900):  # below SQLite's limit of variables
            SyncEvent.objects.filter(pk__in=claimed[start : start + 900]).update(escalated_at=now)
        by_target: dict[int, list[SyncEvent]] = {}
        for row in rows:
            by_target.setdefault(row.target_id, []).append(row)
        # the earliest row of each target is named in its notification
        payloads = dict(
            SyncEvent.objects.filter(
                pk__in=[group[0].pk for group in by_target.values()]
            ).values_list("pk", "payload")
        )
        recipients = queue_recipients(QUEUE_SUPERVISORS)
        notices = []
        for group in by_target.values():
            first = group[0]
            payload = payloads.get(first.pk) or {}
            record = payload.get("record", {})
            last_error = next((r.last_error for r in reversed(group) if r.last_error), "")
            context = {
                "reference": (payload.get("case") or {}).get("reference")
                or record.get("external_id", ""),
                "record_title": record.get("title", ""),
                "target": first.target.name,
                "due_at": timezone.localtime(first.due_at).strftime("%Y-%m-%d %H:%M"),
                "error": last_error or "—",
                "count": len(group),
            }
            if len(group) == 1:
                notices.append(
                    Notice(
                        event="sync.overdue",
                        recipients=recipients,
                        context=context,
                        case_kind=first.case_kind,
                        case_id=first.case_id,
                        key=f"sync-overdue:{first.pk}",
                        channels=("inapp", "email"),
                    )
                )
            else:
                notices.append(
                    Notice(
                        event="sync.overdue_many",
                        recipients=recipients,
                        context=context,
                        key=f"sync-overdue:{first.pk}+{len(group) - 1}",
                        url=_overdue_list_url(),
                        channels=("inapp", "email"),
                    )
                )
        notify_many(notices)
    return len(rows)


def _overdue_list_url() -> str:
    """The supervisors' list of overdue synchronisation rows (the oversight app's), if any."""
    try:
        return reverse("dashboard-sync")
    except NoReverseMatch:
        return ""
