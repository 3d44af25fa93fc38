"""Outbox rows are written with the change and delivered once per (event, recipient, channel)."""

from __future__ import annotations

from functools import partial

import pytest
from django.core import mail
from django.db import transaction

from notifications import sms
from notifications.events import register, render
from notifications.models import Delivery, Notification
from notifications.services import (
    DeliveryRetry,
    Notice,
    deliver,
    notify,
    notify_many,
    notify_queue,
    redeliver_pending,
)
from notifications.tasks import deliver_pending, deliver_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

register("test.event", title="案件更新：{reference}", body="您的案件 {reference} 已{what}。")


@pytest.fixture
def person(db):
    return UserFactory(username="zhang", email="zhang@example.com", phone="13800000000")


def test_notify_writes_outbox_rows_and_delivers_after_commit(
    person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        queued = notify(
            event="test.event",
            recipients=[person],
            context={"reference": "YY-1", "what": "受理"},
            case_kind="objection",
            case_id=7,
            url="/objections/7/",
        )
        assert queued == 3
        assert Delivery.objects.filter(status="pending").count() == 3
        assert Notification.objects.count() == 0  # nothing is sent before the commit
    assert len(callbacks) == 1
    assert set(Delivery.objects.values_list("channel", "status")) == {
        ("inapp", "sent"),
        ("email", "sent"),
        ("sms", "sent"),
    }
    note = Notification.objects.get(recipient=person)
    assert (note.title, note.url, note.case_id) == ("案件更新：YY-1", "/objections/7/", 7)
    assert note.body == "您的案件 YY-1 已受理。"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zhang@example.com"]
    assert "/objections/7/" in mail.outbox[0].body
    assert sms.outbox == [("13800000000", "案件更新：YY-1：您的案件 YY-1 已受理。")]


def test_one_message_per_transaction_for_all_its_notifications(
    person, django_capture_on_commit_callbacks, monkeypatch
):
    """A filing notifies the applicant and the queue: both calls' rows go to the workers in one
    broker message at commit; rows of a rolled-back savepoint that ride along are skipped."""
    other = UserFactory(username="li", email="li@example.com", phone="")
    messages: list[list[int]] = []
    monkeypatch.setattr(
        deliver_pending, "apply_async", lambda args, **kw: messages.append(list(args[0]))
    )
    context = {"reference": "YY-2", "what": "受理"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notify(event="test.event", recipients=[person], context=context, case_id=8)
        try:
            with transaction.atomic():
                notify(event="test.event", recipients=[other], context=context, case_id=9)
                raise RuntimeError("the second change fails")
        except RuntimeError:
            pass
        notify(event="test.event", recipients=[other], context=context, case_id=8)
    assert len(callbacks) == 1 and len(messages) == 1
    kept = set(Delivery.objects.values_list("id", flat=True))
    assert len(kept) == 5 and kept <= set(messages[0])  # 3 channels + 2 (no phone: no SMS)
    assert {deliver(i) for i in set(messages[0]) - kept} <= {"missing"}


def test_other_commit_callbacks_of_any_shape_are_left_alone(
    person, django_capture_on_commit_callbacks, monkeypatch
):
    """A callback with keyword arguments only (e.g. Celery's ``delay_on_commit``) registered
    before a notification does not trip the search for the transaction's pending message."""
    seen: list[int] = []
    messages: list[list[int]] = []
    monkeypatch.setattr(
        deliver_pending, "apply_async", lambda args, **kw: messages.append(list(args[0]))
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        transaction.on_commit(partial(lambda *, n: seen.append(n), n=7))
        notify(
            event="test.event", recipients=[person], context={"reference": "YY-3", "what": "受理"}
        )
    assert seen == [7] and len(messages) == 1 and len(callbacks) == 2


def test_nothing_is_written_or_sent_when_the_transaction_rolls_back(
    person, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(event="test.event", recipients=[person], context={"reference": "YY-2"})
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert Delivery.objects.count() == 0
    assert Notification.objects.count() == 0 and mail.outbox == [] and sms.outbox == []


def test_channels_follow_contact_details():
    no_contact = UserFactory(username="li", email="", phone="")
    assert notify(event="test.event", recipients=[no_contact], context={}) == 1
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["inapp"]


def test_a_stable_key_never_sends_twice(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            with transaction.atomic():
                notify(
                    event="test.event",
                    recipients=[person],
                    context={"reference": "YY-3"},
                    key="reminder:99",
                    channels=("inapp",),
                )
    assert Delivery.objects.count() == 1
    assert Notification.objects.count() == 1


def test_notify_many_writes_every_event_together_and_repeats_nothing(
    person, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """A batch's notices: the rows of all events in one INSERT and their ids read back in one
    query, however many events; a second run with the same keys writes nothing new, and each
    recipient gets each event once."""
    other = UserFactory(username="li", email="", phone="")

    def notices(n: int) -> list[Notice]:
        return [
            Notice(
                event="test.event",
                recipients=[person, other, person],  # a repeated recipient counts once
                context={"reference": f"YY-{i}", "what": "受理"},
                case_kind="record",
                case_id=i,
                key=f"batch:{i}",
                channels=("inapp", "email"),
            )
            for i in range(n)
        ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        # (SQLite: the INSERT in two, below its limit of variables per statement)
        with django_assert_max_num_queries(3), transaction.atomic(savepoint=False):
            assert notify_many(notices(40)) == 40 * 3  # person: in-app + e-mail; li: in-app
        with transaction.atomic():
            assert notify_many(notices(40)) == 40 * 3  # still pending: queued again, not written
    assert Delivery.objects.count() == 120
    # (one test transaction: both calls' ids ride in its one message)
    assert len(callbacks) == 1 and sorted(callbacks[0].args[0]) == sorted(
        list(Delivery.objects.values_list("id", flat=True)) * 2
    )
    assert set(Delivery.objects.values_list("event_key", "recipient__username", "channel")) == {
        (f"batch:{i}", user, channel)
        for i in range(40)
        for user, channel in (("zhang", "inapp"), ("zhang", "email"), ("li", "inapp"))
    }
    for callback in callbacks:
        callback()
    assert Notification.objects.filter(recipient=person).count() == 40
    assert len(mail.outbox) == 40
    assert notify_many([]) == 0


def test_delivery_is_exactly_once_when_the_task_runs_twice(person):
    notify(event="test.event", recipients=[person], context={"reference": "YY-4"})
    ids = list(Delivery.objects.values_list("id", flat=True))
    for delivery_id in ids:
        assert deliver(delivery_id) == "sent"
        assert deliver(delivery_id) == "sent"
        deliver_task.delay(delivery_id)
        deliver_task.delay(delivery_id)
    deliver_pending(ids)
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    assert len(sms.outbox) == 1
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


class FlakySms:
    calls = 0

    def send(self, phone: str, text: str) -> None:
        FlakySms.calls += 1
        if FlakySms.calls == 1:
            raise ConnectionError("SMS gateway timed out")
        sms.outbox.append((phone, text))


def test_a_failed_delivery_is_recorded_and_retried(person, settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.FlakySms"
    FlakySms.calls = 0
    notify(
        event="test.event", recipients=[person], context={"reference": "YY-5"}, channels=("sms",)
    )
    row = Delivery.objects.get()
    with pytest.raises(DeliveryRetry):
        deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "timed out" in row.last_error
    assert sms.outbox == []
    assert deliver(row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(sms.outbox) == 1


class DeadSms:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("no route to gateway")


def test_a_delivery_fails_for_good_after_five_attempts(person, settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.DeadSms"
    notify(event="test.event", recipients=[person], context={}, channels=("sms",))
    row = Delivery.objects.get()
    for _ in range(4):
        with pytest.raises(DeliveryRetry):
            deliver(row.pk)
    assert deliver(row.pk) == "failed"
    assert deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 5)


def test_failed_in_pending_batch_does_not_stop_the_others(person, settings):
    settings.SMS_BACKEND = "tests.notifications.test_outbox.DeadSms"
    notify(event="test.event", recipients=[person], context={"reference": "YY-6"})
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    assert deliver_pending(ids) == 2
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1
    assert Delivery.objects.get(channel="sms").status == "pending"


def test_the_sweep_requeues_rows_never_delivered(person):
    notify(event="test.event", recipients=[person], context={}, channels=("inapp",))
    assert Notification.objects.count() == 0  # no commit happened in this test transaction
    assert redeliver_pending(older_than_seconds=0) == 1
    assert Notification.objects.count() == 1
    assert redeliver_pending(older_than_seconds=0) == 0


def test_notify_queue_reaches_the_group(supervisor, centre_user, dept_samr):
    UserFactory(username="former", supervisor=True, is_active=False)
    notify_queue(queue="supervisors", event="test.event", context={}, channels=("inapp",))
    notify_queue(queue="dept:SAMR", event="test.event", context={}, channels=("inapp",))
    assert sorted(Delivery.objects.values_list("recipient__username", flat=True)) == [
        "dept_samr",
        "supervisor",
    ]


def test_supervisor_queue_falls_back_to_administrators():
    UserFactory(username="admin", administrator=True)
    notify_queue(queue="supervisors", event="test.event", context={}, channels=("inapp",))
    assert list(Delivery.objects.values_list("recipient__username", flat=True)) == ["admin"]


def test_texts_are_rendered_in_the_recipients_language():
    title, body = render(
        "deadline.reminder",
        {"reference": "YY-7", "step_kind": "objection_intake", "due_at": "2026-05-06 23:59"},
        "zh-hans",
    )
    assert title == "任务即将到期：YY-7"
    assert "异议受理" in body and "2026-05-06 23:59" in body
    title, _body = render("no.such.event", {"reference": "YY-8"}, "zh-hans")
    assert "YY-8" in title
