"""Handing outbox row ids to the workers (SPEC §9) without ever holding a request hostage to the
broker.

The outbox rows (notification deliveries, synchronisation events) are written in the change's
transaction; after the commit their ids go to the broker in messages of ``chunk`` ids each, so a
batch import of 5,000 records is a few dozen messages, not 5,000. Publishing is bounded:

* one attempt per message (Celery would otherwise retry a failed publish three times, each
  waiting for its timeout), within the broker's socket timeouts (``BROKER_TIMEOUT_SECONDS``; a
  Redis that accepts connections but never answers would otherwise hold the request forever) —
  and one more only when the attempt failed at once (RabbitMQ: the pooled connection the broker
  closed when it restarted);
* after a failure this process stops publishing for ``BROKER_PAUSE_SECONDS``: the requests in
  between answer at their usual speed instead of each waiting for the broker again.

Nothing is lost either way: the rows stay pending and the sweeps queue them again (notifications
after a minute, synchronisation rows as soon as their retry time has come).

On Redis (production's broker) a message is written by one ``LPUSH`` on a connection this
process keeps (:class:`RedisPublisher`): Celery's ``apply_async`` cost a completion or a filing
about a millisecond — a new Redis client object per publish (with its ~170 response callbacks),
the route, the headers and kombu's envelope built anew, two round trips. The message is the one
Celery would publish: Celery builds it once, into a producer that only records it
(:class:`_Recorder`), and each publish changes what changes per message — the task id, the ids
it carries, the delivery tag. Whatever the fast path does not handle (another broker, eager
tasks, a routed exchange, priorities, expiry, signal receivers, another serializer, a router
function or a shadow name, failover, TLS or a separate write broker) goes through
``apply_async`` as before. One thing it cannot see: code that wraps ``apply_async`` to add
headers on each call without Celery's publish signals (tracing libraries use the signals, which
send every message through ``apply_async``) would have its first call's headers repeated."""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from urllib.parse import urlparse

import orjson
import redis
from celery import Task as CeleryTask
from celery import signals as celery_signals
from celery.app.routes import MapRoute
from celery.utils.saferepr import saferepr
from django.conf import settings
from kombu.entity import maybe_delivery_mode
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_paused_until = 0.0  # time.monotonic() before which this process does not publish


def broker_paused() -> bool:
    """True while this process is waiting out a broker failure."""
    return time.monotonic() < _paused_until


def _pause(what: str, error: BaseException) -> None:
    global _paused_until
    seconds = float(settings.BROKER_PAUSE_SECONDS)
    with _lock:
        _paused_until = time.monotonic() + seconds
    logger.error(
        "broker unavailable while queueing %s (%s: %s); not publishing for %.0f s, "
        "the sweeps queue the pending rows",
        what,
        type(error).__name__,
        error,
        seconds,
        exc_info=error,
    )


def broker_resume() -> None:
    """Forget a failure (tests; an operator's shell after fixing the broker)."""
    global _paused_until
    with _lock:
        _paused_until = 0.0


# what a broker that is down, restarting or hung raises (kombu wraps the transports' errors;
# redis-py's own, on the fast path, are not OSErrors)
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    OSError,
    redis.RedisError,
)
# a refused or closed connection fails within milliseconds; a timeout takes its full timeout
FAST_FAILURE_SECONDS = 0.25


def _send(task: Any, part: list[int]) -> None:
    """One publish; a connection that fails at once (a pooled connection the broker closed when
    it restarted, while the broker itself is back) is given one more try — a timeout is not."""
    publisher = redis_publisher(task)
    send = publisher.send if publisher is not None else _apply_async(task)
    started = time.monotonic()
    try:
        send(part)
    except BROKER_ERRORS:
        if time.monotonic() - started >= FAST_FAILURE_SECONDS:
            raise
        send(part)


def _apply_async(task: Any) -> Any:
    return lambda part: task.apply_async((part,), retry=False)


def publish_ids(task: Any, ids: Sequence[int], *, chunk: int, what: str) -> int:
    """Queue ``task(ids[i:i + chunk])`` for every chunk; returns how many ids went out (fewer
    while paused or when the broker fails — the rest stay pending for the sweeps)."""
    sent = 0
    for start in range(0, len(ids), chunk):
        if broker_paused():
            logger.debug("broker paused: %s left to the sweeps", what)
            return sent
        part = list(ids[start : start + chunk])
        try:
            _send(task, part)
        except BROKER_ERRORS as exc:
            _pause(what, exc)
            return sent
        except Exception:  # noqa: BLE001 - not the broker (e.g. an eager task failing): go on
            logger.exception("could not queue %s %s; the sweeps will", what, part)
            continue
        sent += len(part)
    return sent


# --- Redis: the message Celery would publish, in one LPUSH ----------------------------------------

# transport options the fast path honours (the timeouts) or that do not change where or how a
# message is written (max_retries: Celery's connection attempts; visibility_timeout: the workers')
_REDIS_OPTIONS = {
    "max_retries",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "visibility_timeout",
}
_PUBLISH_SIGNALS = (
    celery_signals.before_task_publish,
    celery_signals.after_task_publish,
    celery_signals.task_sent,
)


class _Recorder:
    """A kombu producer that keeps what Celery hands it instead of sending it."""

    def __init__(self) -> None:
        self.connection = self  # Celery wraps its publish in the connection's error context
        self.published: tuple[Any, dict[str, Any]] | None = None

    def _reraise_as_library_errors(self) -> Any:
        return nullcontext()

    def publish(self, body: Any, **kwargs: Any) -> None:
        self.published = (body, kwargs)


class RedisPublisher:
    """Publish ``task((ids,))`` to Redis as Celery's Redis transport writes it: the envelope
    ``{"body": base64(json([args, kwargs, embed])), "content-encoding", "content-type",
    "headers", "properties"}`` pushed on the queue's list (kombu's ``Channel._put``)."""

    def __init__(self, client: redis.Redis, task: Any, body: Any, kwargs: dict[str, Any]) -> None:
        self.client = client
        self.queue = kwargs["routing_key"]
        self.headers = dict(kwargs["headers"])
        self.args_maxsize = task.app.amqp.argsrepr_maxsize
        self.repr_levels = task.app.conf.task_repr_maxlevels
        self.kwargs_embed = (body[1], body[2])
        skip = {"exchange", "routing_key", "serializer", "compression", "retry", "retry_policy"}
        skip |= {"declare", "headers", "timeout", "confirm_timeout", "delivery_mode", "priority"}
        self.properties = {k: v for k, v in kwargs.items() if k not in skip}
        # kombu writes the mode's number ("transient" → 1), persistent when none is given
        self.properties["delivery_mode"] = maybe_delivery_mode(kwargs.get("delivery_mode"))
        self.app = task.app

    @classmethod
    def build(cls, task: Any) -> RedisPublisher | None:
        """What Celery would publish for ``task``, when one LPUSH writes it exactly; or None."""
        app = getattr(task, "app", None)
        if app is None or not hasattr(task, "apply_async"):
            return None  # not a Celery task (tests' stand-ins)
        conf = app.conf
        url = conf.broker_url
        if not isinstance(url, str):
            return None  # a list of brokers: kombu's failover
        parsed = urlparse(url)
        options = dict(conf.broker_transport_options or {})
        if (
            conf.task_always_eager
            or parsed.scheme != "redis"
            or ";" in url  # failover brokers
            or parsed.query  # options in the URL (kombu reads them; redis-py reads others)
            or conf.broker_write_url != url  # Celery would write elsewhere
            or conf.broker_use_ssl  # kombu would speak TLS
            or set(options) - _REDIS_OPTIONS
            or conf.task_send_sent_event
            # a router function may route by the arguments, a shadow name may name the task
            # by them: the message recorded for one call would not do for the next
            or any(not isinstance(route, MapRoute) for route in app.amqp.routes)
            or getattr(task.shadow_name, "__func__", None) is not CeleryTask.shadow_name
        ):
            return None
        recorder = _Recorder()
        task.apply_async(([0],), retry=False, producer=recorder)
        if recorder.published is None:
            return None
        body, kwargs = recorder.published
        declare = kwargs.get("declare") or []
        if (
            kwargs.get("exchange") != ""  # kombu routes a named exchange through its bindings
            or kwargs.get("serializer") != "json"
            or kwargs.get("compression")
            or kwargs.get("priority")  # a priority goes on another list
            or kwargs.get("expiration") is not None
            or not isinstance(body, tuple)  # protocol 1
            or any(getattr(q, "expires", None) or getattr(q, "message_ttl", None) for q in declare)
            or any(getattr(q, "queue_arguments", None) for q in declare)
        ):
            return None
        client = redis.Redis.from_url(
            url,
            socket_timeout=options.get("socket_timeout"),
            socket_connect_timeout=options.get("socket_connect_timeout"),
            socket_keepalive=bool(options.get("socket_keepalive")),
        )
        return cls(client, task, body, kwargs)

    def message(self, ids: list[int]) -> bytes:
        task_id = str(uuid.uuid4())
        args = (ids,)
        headers = {
            **self.headers,
            "id": task_id,
            "root_id": task_id,
            "argsrepr": saferepr(args, self.args_maxsize, maxlevels=self.repr_levels),
        }
        body = orjson.dumps([args, *self.kwargs_embed])
        return orjson.dumps(
            {
                "body": base64.b64encode(body).decode(),
                "content-encoding": "utf-8",
                "content-type": "application/json",
                "headers": headers,
                "properties": {
                    **self.properties,
                    "correlation_id": task_id,
                    "reply_to": self.app.thread_oid,  # per thread, as Celery sets it
                    "delivery_info": {"exchange": "", "routing_key": self.queue},
                    "priority": 0,
                    "body_encoding": "base64",
                    "delivery_tag": str(uuid.uuid4()),
                },
            }
        )

    def send(self, ids: list[int]) -> None:
        self.client.lpush(self.queue, self.message(ids))


# per (process, task name): built on the first publish under the configuration in force (a
# forked process builds its own); forget_publishers() after changing Celery's broker, routes or
# transport options at run time (tests: tests/conftest.py's reset_celery_connections does)
_PUBLISHERS: dict[tuple[int, str], RedisPublisher | None] = {}


def forget_publishers() -> None:
    """Build the publishers again on their next use (Celery's configuration changed: tests)."""
    with _lock:
        _PUBLISHERS.clear()


def redis_publisher(task: Any) -> RedisPublisher | None:
    """This process's :class:`RedisPublisher` for ``task``, or None when Celery's own
    ``apply_async`` must publish."""
    app = getattr(task, "app", None)
    if (
        app is None
        # inside a worker's task Celery links the message to it (root and parent ids)
        or app.current_worker_task is not None
        # whoever listens to Celery's publishing hears it from Celery
        or any(signal.receivers for signal in _PUBLISH_SIGNALS)
        # tasks run in this process, not published (may be switched on at run time)
        or app.conf.task_always_eager
    ):
        return None
    key = (os.getpid(), task.name)
    try:
        return _PUBLISHERS[key]
    except KeyError:
        pass
    with _lock:
        if key not in _PUBLISHERS:
            _PUBLISHERS[key] = RedisPublisher.build(task)
        return _PUBLISHERS[key]
