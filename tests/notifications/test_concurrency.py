"""Two sweeps running at once send each reminder once (PostgreSQL row locks)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from notifications.models import Delivery
from notifications.services import sweep_reminders
from tests.factories import UserFactory
from workflow_app.audit.models import TransitionLog
from workflow_app.workdays.models import Deadline

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _due_for_reminder(case_id: int, user, now) -> Deadline:
    return Deadline.objects.create(
        case_kind="objection",
        case_id=case_id,
        kind="objection_intake",
        start_at=now - datetime.timedelta(days=3),
        amount=5,
        due_at=now + datetime.timedelta(hours=5),
        remind_at=now - datetime.timedelta(hours=1),
        queue="centre",
        assignee=user,
    )


def test_parallel_reminder_sweeps_send_each_reminder_once():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")
    user = UserFactory(username="centre", centre=True, email="", phone="")
    now = timezone.now()
    for case_id in range(1, 21):
        _due_for_reminder(case_id, user, now)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(sweep_reminders(now=now))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(counts) == 20
    assert Delivery.objects.count() == 20
    assert TransitionLog.objects.filter(event="reminder").count() == 20


def test_a_sweep_leaves_a_case_a_transition_holds_for_its_next_run():
    """The sweep takes a case's audit head without waiting: while a transition holds it (it
    takes the head before the deadline rows), the sweep reminds the other cases and leaves this
    one, instead of waiting for — or deadlocking with — the transition."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")
    from workflow_app.audit.services import audit_append, verify_chains

    user = UserFactory(username="centre", centre=True, email="", phone="")
    now = timezone.now()
    for case_id in (1, 2):
        audit_append(case_kind="objection", case_id=case_id, to_state="submitted")
        _due_for_reminder(case_id, user, now)
    held = threading.Event()
    release = threading.Event()

    def transition() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                audit_append(case_kind="objection", case_id=1, to_state="accepted")
                held.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    t = threading.Thread(target=transition)
    t.start()
    assert held.wait(timeout=10)
    try:
        assert sweep_reminders(now=now) == 1  # case 2 only, at once
        assert Deadline.objects.get(case_id=1).reminded_at is None
    finally:
        release.set()
        t.join(timeout=30)
    assert sweep_reminders(now=now) == 1  # case 1 on the next run
    assert sweep_reminders(now=now) == 0
    assert verify_chains() == []
