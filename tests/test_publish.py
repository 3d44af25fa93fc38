"""Outbox ids reach the workers in chunks, and a broker that refuses or stops answering costs a
request at most one bounded wait: the process then leaves the pending rows to the sweeps, which
deliver every one of them once the broker is back (SPEC §9: nothing lost)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from notifications.models import Delivery, Notification
from notifications.services import redeliver_pending
from tests.conftest import celery_configured, reset_celery_connections
from tests.factories import CreditRecordFactory
from tests.processes.helpers import file_objection
from workflow_app import publish
from workflow_app.publish import broker_paused, publish_ids
from workflow_app.settings.base import broker_transport_options

pytestmark = pytest.mark.django_db


class FakeTask:
    """``apply_async`` that fails its first ``fails`` calls with ``error``, after ``delay`` s."""

    def __init__(self, fails: int = 0, error: Exception | None = None, delay: float = 0) -> None:
        self.fails = fails
        self.error = error or ConnectionRefusedError("broker refused the connection")
        self.delay = delay
        self.calls = 0
        self.messages: list[list[int]] = []

    def apply_async(self, args, **options):
        assert options == {"retry": False}  # Celery would retry three times, each with a timeout
        self.calls += 1
        if self.calls <= self.fails:
            time.sleep(self.delay)
            raise self.error
        self.messages.append(args[0])


def test_ids_go_out_in_chunks():
    task = FakeTask()
    assert publish_ids(task, list(range(1201)), chunk=500, what="rows") == 1201
    assert [len(m) for m in task.messages] == [500, 500, 201]
    assert [i for m in task.messages for i in m] == list(range(1201))
    assert publish_ids(task, [], chunk=500, what="rows") == 0


def test_a_failed_publish_pauses_publishing_until_the_pause_ends(settings, monkeypatch):
    settings.BROKER_PAUSE_SECONDS = 30
    refused = FakeTask(fails=99)
    assert publish_ids(refused, [1, 2, 3], chunk=1, what="rows") == 0
    assert refused.calls == 2  # it failed at once, so once more; then the pause
    assert broker_paused()
    working = FakeTask()
    assert publish_ids(working, [4], chunk=1, what="rows") == 0  # not even tried
    assert working.calls == 0
    monkeypatch.setattr(publish, "_paused_until", time.monotonic() - 1)  # the pause is over
    assert not broker_paused()
    assert publish_ids(working, [4], chunk=1, what="rows") == 1 and working.messages == [[4]]


def test_a_stale_connection_is_tried_again_once():
    """RabbitMQ closes its connections when it restarts; the pooled one fails at once on the
    next publish although the broker is back: the second try goes out, nothing pauses."""
    from kombu.exceptions import OperationalError

    stale = FakeTask(fails=1, error=OperationalError("Server unexpectedly closed connection"))
    assert publish_ids(stale, [1, 2], chunk=2, what="rows") == 2
    assert stale.calls == 2 and stale.messages == [[1, 2]] and not broker_paused()


def test_a_publish_that_timed_out_is_not_tried_again():
    slow = FakeTask(fails=1, error=TimeoutError("timed out"), delay=publish.FAST_FAILURE_SECONDS)
    assert publish_ids(slow, [1], chunk=1, what="rows") == 0
    assert slow.calls == 1 and broker_paused()


def test_an_error_that_is_not_the_broker_s_does_not_pause(caplog):
    """An eager task that fails (tests, CELERY_TASK_ALWAYS_EAGER) is logged; the other chunks
    still go and the broker is not taken for down."""
    failing = FakeTask(fails=1, error=ValueError("the task failed"))
    assert publish_ids(failing, [1, 2], chunk=1, what="rows") == 1
    assert failing.messages == [[2]] and not broker_paused()
    assert "could not queue rows [1]" in caplog.text


def test_the_production_broker_options_bound_every_wait(settings):
    redis = broker_transport_options("redis://broker.internal:6379/0")
    assert redis["socket_timeout"] == redis["socket_connect_timeout"] == 3.0
    assert redis["max_retries"] == 0  # one connection attempt when publishing
    assert broker_transport_options("amqp://guest@broker.internal//") == {"max_retries": 0}
    assert "data_folder_in" in broker_transport_options("filesystem://")
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT == settings.BROKER_TIMEOUT_SECONDS == 3.0


class SilentBroker:
    """Accepts connections and never answers: a hung Redis, or a connection whose other end has
    gone without closing it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent_broker(monkeypatch):
    # Celery prefers CELERY_BROKER_URL from the environment (CI sets it) over its configuration
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    broker = SilentBroker()
    try:
        with celery_configured(
            task_always_eager=False,
            broker_url=broker.url,
            # the production options (checked above), with a short timeout to keep it quick
            broker_transport_options={
                **broker_transport_options(broker.url),
                "socket_timeout": 0.5,
                "socket_connect_timeout": 0.5,
            },
            broker_connection_timeout=0.5,
        ):
            yield broker
    finally:
        broker.close()


def test_filings_answer_while_the_broker_never_answers_and_nothing_is_lost(
    silent_broker, applicant, company, samr, django_capture_on_commit_callbacks
):
    records = CreditRecordFactory.create_batch(2, subject=company, department=samr)
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        first = file_objection(applicant, records[0])
    first_wait = time.monotonic() - start
    assert first["status"] == "submitted"
    # one attempt, given up after the socket timeout (0.5 s): a timeout is not tried again
    time.sleep(0.05)  # let the accepting thread record the connection
    assert len(silent_broker.connections) == 1
    assert first_wait < 3
    assert broker_paused()

    tried = len(silent_broker.connections)
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        second = file_objection(applicant, records[1])
    assert time.monotonic() - start < 1
    assert len(silent_broker.connections) == tried  # paused: the broker is left alone
    pending = Delivery.objects.filter(case_id__in=[first["id"], second["id"]])
    assert pending.count() > 0 and set(pending.values_list("status", flat=True)) == {"pending"}
    assert not Notification.objects.exists()

    # the broker is back: the redelivery sweep queues the rows and each is delivered once
    from workflow_app.celery import app

    app.conf.update(task_always_eager=True)
    publish.broker_resume()
    assert redeliver_pending(older_than_seconds=0) == pending.count()
    assert set(pending.values_list("status", flat=True)) == {"sent"}
    assert redeliver_pending(older_than_seconds=0) == 0
    assert set(
        Notification.objects.filter(recipient=applicant).values_list("case_id", flat=True)
    ) == {first["id"], second["id"]}


# --- the Redis fast path: the message Celery would publish, in one LPUSH ----------------------


def _redis_url() -> str:
    import os

    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_queue(monkeypatch):
    """Celery on a reachable Redis with a queue of this test's own; yields (app, client, queue)."""
    import uuid

    import redis

    from tests.conftest import skip_or_fail

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    url = _redis_url()
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        skip_or_fail(f"Redis is not reachable at {url}; start it to run the fast path's tests")
    queue = f"test-publish-{uuid.uuid4().hex[:8]}"
    with celery_configured(
        task_always_eager=False,
        broker_url=url,
        broker_transport_options=broker_transport_options(url),
        task_default_queue=queue,
        task_routes={},
    ) as app:
        try:
            yield app, client, queue
        finally:
            client.delete(queue)


def _envelope(raw: bytes) -> dict:
    import base64
    import json

    message = json.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


def test_the_fast_path_writes_the_message_celery_writes(redis_queue):
    from notifications.tasks import deliver_pending
    from workflow_app.publish import RedisPublisher, redis_publisher

    _app, client, queue = redis_queue
    publisher = redis_publisher(deliver_pending)
    assert isinstance(publisher, RedisPublisher) and publisher.queue == queue
    deliver_pending.apply_async(([7, 8, 9],), retry=False)  # Celery's own
    assert publish_ids(deliver_pending, [7, 8, 9], chunk=10, what="rows") == 3  # the fast path
    celerys, ours = (_envelope(raw) for raw in reversed(client.lrange(queue, 0, -1)))
    for message in (celerys, ours):
        task_id = message["headers"]["id"]
        assert message["headers"]["root_id"] == message["properties"]["correlation_id"] == task_id
        for key in ("id", "root_id"):
            message["headers"][key] = "…"
        for key in ("correlation_id", "delivery_tag"):
            message["properties"][key] = "…"
    assert ours == celerys  # body, headers (argsrepr included), properties, encodings
    assert ours["body"][0] == [[7, 8, 9]]
    assert len(ours["headers"]) == len(celerys["headers"]) > 10


def test_long_id_lists_are_shown_as_celery_shows_them(redis_queue):
    from notifications.tasks import deliver_pending
    from workflow_app.publish import redis_publisher

    _app, client, queue = redis_queue
    ids = list(range(100_000, 100_500))  # argsrepr over Celery's 1,024 characters: shortened
    deliver_pending.apply_async((ids,), retry=False)
    redis_publisher(deliver_pending).send(ids)
    celerys, ours = (_envelope(raw) for raw in reversed(client.lrange(queue, 0, -1)))
    assert ours["headers"]["argsrepr"] == celerys["headers"]["argsrepr"]
    assert len(ours["headers"]["argsrepr"]) < 1100 and ours["body"][0] == [ids]


def test_what_the_fast_path_does_not_write_goes_through_celery(redis_queue, monkeypatch):
    from celery.signals import before_task_publish

    from notifications.tasks import deliver_pending
    from workflow_app.publish import redis_publisher

    app, client, queue = redis_queue
    assert redis_publisher(deliver_pending) is not None

    def listener(**kwargs):
        pass

    before_task_publish.connect(listener)  # someone listens to Celery's publishing
    try:
        assert redis_publisher(deliver_pending) is None
        assert publish_ids(deliver_pending, [1], chunk=1, what="rows") == 1
        assert client.llen(queue) == 1  # Celery published it
    finally:
        before_task_publish.disconnect(listener)
    app.conf.task_routes = {"notifications.tasks.*": {"queue": f"{queue}-p", "priority": 5}}
    reset_celery_connections(app)  # Celery reads its routes and builds its router once
    app.amqp.__dict__.pop("router", None)
    assert redis_publisher(deliver_pending) is None  # a priority goes on another list
    app.conf.task_routes = {}
    reset_celery_connections(app)
    app.amqp.__dict__.pop("router", None)
    app.conf.broker_transport_options = {"global_keyprefix": "cw:"}
    reset_celery_connections(app)
    assert redis_publisher(deliver_pending) is None  # keys Celery would prefix
    app.conf.broker_transport_options = broker_transport_options(app.conf.broker_url)
    app.conf.task_always_eager = True
    reset_celery_connections(app)
    assert redis_publisher(deliver_pending) is None  # run here, not published
    app.conf.task_always_eager = False
    app.conf.broker_url = "filesystem://"
    reset_celery_connections(app)
    assert redis_publisher(deliver_pending) is None
    assert redis_publisher(FakeTask()) is None


def _route_by_length(name, args, kwargs, options, task=None, **kw):
    """A router function that routes by the arguments (long id lists to their own queue)."""
    return {"queue": "bulk"} if args and len(args[0]) > 100 else None


@pytest.mark.parametrize(
    "conf",
    [
        {"broker_write_url": "redis://127.0.0.1:6379/12"},  # Celery writes there
        {"broker_use_ssl": {"ssl_cert_reqs": "required"}},  # kombu would speak TLS
        {"broker_url": "redis://127.0.0.1:6379/13;redis://127.0.0.1:6380/13"},  # failover
        {"broker_url": "redis://127.0.0.1:6379/13?health_check_interval=5"},  # URL options
        {"task_routes": [_route_by_length]},  # a router that reads the arguments
        {"task_routes": ["tests.test_publish._route_by_length"]},  # the same, by its name
    ],
    ids=["write-url", "tls", "failover", "url-options", "router", "router-by-name"],
)
def test_configurations_the_fast_path_cannot_copy_go_through_celery(redis_queue, conf):
    from notifications.tasks import deliver_pending
    from workflow_app.publish import redis_publisher

    assert redis_publisher(deliver_pending) is not None
    with celery_configured(**conf):
        assert redis_publisher(deliver_pending) is None
    assert redis_publisher(deliver_pending) is not None


def test_a_task_with_a_shadow_name_goes_through_celery(redis_queue):
    from workflow_app.publish import redis_publisher

    app, _client, _queue = redis_queue

    @app.task(name="tests.shadowed", shadow_name=lambda task, args, kwargs, options: "x")
    def shadowed(ids):  # pragma: no cover - never run
        return ids

    @app.task(name="tests.plain")
    def plain(ids):  # pragma: no cover - never run
        return ids

    assert redis_publisher(shadowed) is None
    assert redis_publisher(plain) is not None


def test_delivery_mode_and_reply_to_as_kombu_and_celery_write_them(redis_queue):
    from notifications.tasks import deliver_pending
    from workflow_app.publish import redis_publisher

    app, client, queue = redis_queue
    with celery_configured(task_default_delivery_mode="transient"):
        app.amqp.__dict__.pop("send_task_message", None)  # Celery reads the default once
        deliver_pending.apply_async(([1],), retry=False)
        redis_publisher(deliver_pending).send([1])
        thread = threading.Thread(target=lambda: redis_publisher(deliver_pending).send([2]))
        thread.start()
        thread.join()
    celerys, ours, from_thread = (_envelope(raw) for raw in reversed(client.lrange(queue, 0, -1)))
    assert ours["properties"]["delivery_mode"] == celerys["properties"]["delivery_mode"] == 1
    assert ours["properties"]["reply_to"] == celerys["properties"]["reply_to"] == app.thread_oid
    assert from_thread["properties"]["reply_to"] != app.thread_oid  # each thread its own
    app.amqp.__dict__.pop("send_task_message", None)
