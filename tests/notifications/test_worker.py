"""A real Celery worker delivers the outbox through Redis after the commit."""

from __future__ import annotations

import os
import socket
import time
import uuid
from urllib.parse import urlparse

import pytest
from celery.signals import task_received
from django.db import transaction

from notifications.models import Delivery, Notification
from notifications.services import notify
from tests.conftest import celery_configured, skip_or_fail
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis") else "redis://127.0.0.1:6379/15"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 2):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_worker():
    from celery.contrib.testing.worker import start_worker

    url = _broker_url()
    if not _reachable(url):
        skip_or_fail(f"Redis is not reachable at {url}; start it to run the worker test")
    queue = f"test-notifications-{uuid.uuid4().hex[:8]}"  # never share messages with others
    with (
        celery_configured(
            task_always_eager=False,
            broker_url=url,
            broker_transport_options={},
            task_default_queue=queue,
            task_routes={"notifications.tasks.*": {"queue": queue}},
        ) as app,
        start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]),
    ):
        yield app


def test_a_real_worker_delivers_once_after_commit(redis_worker, monkeypatch):
    from workflow_app.publish import RedisPublisher

    received: list[str] = []
    fast: list[list[int]] = []  # the message goes out by the Redis fast path (workflow_app.publish)
    send = RedisPublisher.send
    monkeypatch.setattr(
        RedisPublisher, "send", lambda self, ids: (fast.append(ids), send(self, ids))
    )

    def on_received(sender=None, request=None, **kwargs):
        received.append(request.name)

    task_received.connect(on_received, weak=False)
    person = UserFactory(username="wang", email="", phone="")
    with transaction.atomic():
        notify(
            event="deadline.reminder",
            recipients=[person],
            context={"reference": "YY-2026-0100", "step": "异议受理", "due_at": "2026-05-06"},
            key="reminder:worker-test",
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if Delivery.objects.filter(status="sent").exists():
            break
        time.sleep(0.2)
    task_received.disconnect(on_received)
    assert received == ["notifications.tasks.deliver_pending"]  # came through the broker
    assert len(fast) == 1
    assert Notification.objects.filter(recipient=person).count() == 1
    note = Notification.objects.get()
    assert note.title == "任务即将到期：YY-2026-0100"
    assert Delivery.objects.get().status == "sent"
