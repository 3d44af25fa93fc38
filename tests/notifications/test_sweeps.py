"""Reminders before deadlines and escalations after them are sent once each, and recorded."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notifications.models import Delivery, Notification
from notifications.services import deliver, sweep_escalations, sweep_reminders
from tests.factories import UserFactory
from workflow_app.audit.models import TransitionLog
from workflow_app.audit.services import verify_chains
from workflow_app.cases.messages import render_message
from workflow_app.workdays.models import Deadline

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 5, 6, 10, 0))


def _deadline(*, due_in_hours: float, remind_hours_before: float = 24, **kw) -> Deadline:
    due = NOW + datetime.timedelta(hours=due_in_hours)
    fields = {
        "case_kind": "objection",
        "case_id": 41,
        "case_reference": "YY-2026-0041",
        "kind": "objection_intake",
        "start_at": NOW - datetime.timedelta(days=5),
        "amount": 5,
        "due_at": due,
        "remind_at": due - datetime.timedelta(hours=remind_hours_before),
        "queue": "centre",
    }
    fields.update(kw)
    return Deadline.objects.create(**fields)


def _deliver_all() -> None:
    for pk in Delivery.objects.filter(status="pending").values_list("id", flat=True):
        deliver(pk)


def test_reminder_goes_to_the_assignee_once(centre_user):
    other = UserFactory(username="centre2", centre=True)
    d = _deadline(due_in_hours=10, assignee=centre_user)
    assert sweep_reminders(now=NOW) == 1
    assert sweep_reminders(now=NOW) == 0
    assert sweep_reminders(now=NOW + datetime.timedelta(hours=1)) == 0
    _deliver_all()
    notes = list(Notification.objects.all())
    assert [n.recipient for n in notes] == [centre_user]
    assert notes[0].title == "任务即将到期：YY-2026-0041"
    assert "异议受理" in notes[0].body
    assert notes[0].url == "/objections/41/"
    assert not Notification.objects.filter(recipient=other).exists()
    d.refresh_from_db()
    assert d.reminded_at == NOW
    entry = TransitionLog.objects.get(case_kind="objection", case_id=41)
    assert entry.event == "reminder" and entry.data["deadline_id"] == d.pk


def test_reminder_goes_to_the_group_while_nobody_holds_the_task(centre_user):
    colleague = UserFactory(username="centre2", centre=True)
    _deadline(due_in_hours=10)
    assert sweep_reminders(now=NOW) == 1
    _deliver_all()
    assert {n.recipient for n in Notification.objects.all()} == {centre_user, colleague}


def test_no_reminder_before_time_nor_for_closed_or_past_deadlines(centre_user):
    _deadline(due_in_hours=48, remind_hours_before=24)  # reminder tomorrow
    _deadline(due_in_hours=10, status="met")
    _deadline(due_in_hours=-1)  # already overdue: escalated instead
    assert sweep_reminders(now=NOW) == 0
    assert Delivery.objects.count() == 0


def test_escalation_once_to_supervisors_and_on_the_timeline(supervisor, centre_user):
    d = _deadline(due_in_hours=-2, assignee=centre_user)
    assert sweep_escalations(now=NOW) == 1
    assert sweep_escalations(now=NOW) == 0
    assert sweep_escalations(now=NOW + datetime.timedelta(days=1)) == 0
    _deliver_all()
    note = Notification.objects.get()
    assert note.recipient == supervisor
    assert note.title == "任务已逾期：YY-2026-0041"
    assert "centre" in note.body
    entry = TransitionLog.objects.get(case_kind="objection", case_id=41, event="escalation")
    assert entry.data["msg"] == "deadline.escalated"
    assert "逾期" in render_message(entry.data["msg"], entry.data["params"])
    assert entry.data["deadline_id"] == d.pk and entry.data["kind"] == "objection_intake"
    assert verify_chains() == []


def test_applicant_periods_are_not_escalated(supervisor):
    _deadline(due_in_hours=-2, kind="objection_supplement", queue="applicant")
    assert sweep_escalations(now=NOW) == 0
    assert Delivery.objects.count() == 0


def test_a_deadline_met_meanwhile_is_not_reminded(centre_user):
    d = _deadline(due_in_hours=10, assignee=centre_user)
    Deadline.objects.filter(pk=d.pk).update(status="met")
    assert sweep_reminders(now=NOW) == 0


def test_many_due_rows_in_a_few_statements(centre_user, supervisor, django_assert_max_num_queries):
    """A sweep claims, announces and records its due rows together (each row had its own
    transaction: 6.8 ms a row on the bench); every case's chain still verifies."""
    for case_id in range(100, 140):
        _deadline(due_in_hours=10, case_id=case_id, assignee=centre_user)
        _deadline(due_in_hours=-2, case_id=case_id, kind="objection_platform_check")
    # 40 rows or 200 (a chunk), the same statements on PostgreSQL (SQLite splits an INSERT below
    # its limit of variables): the due rows, a savepoint, the heads (locked, the
    # missing ones looked for and created), the deadline rows (locked, claimed), the outbox rows
    # (written, their ids read), the audit entries and the heads advanced
    with django_assert_max_num_queries(12):
        assert sweep_reminders(now=NOW) == 40
    with django_assert_max_num_queries(11):  # the heads exist now; the supervisors are read
        assert sweep_escalations(now=NOW) == 40
    assert sweep_reminders(now=NOW) == sweep_escalations(now=NOW) == 0
    reminders = Delivery.objects.filter(event="deadline.reminder")
    assert reminders.values("event_key").distinct().count() == 40
    assert TransitionLog.objects.filter(event="reminder").count() == 40
    assert TransitionLog.objects.filter(event="escalation").count() == 40
    assert verify_chains() == []
    entry = TransitionLog.objects.get(event="escalation", case_id=120)
    d = Deadline.objects.get(case_id=120, kind="objection_platform_check")
    assert entry.seq == 2 and entry.data["deadline_id"] == d.pk and d.escalated_at == NOW
