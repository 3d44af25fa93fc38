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
after a minute, synchronisation rows as soon as their retry time has come)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
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


# what a broker that is down, restarting or hung raises (kombu wraps the transports' errors)
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, OSError)
# a refused or closed connection fails within milliseconds; a timeout takes its full timeout
FAST_FAILURE_SECONDS = 0.25


def _send(task: Any, part: list[int]) -> None:
    """One publish; a connection that fails at once (a pooled connection the broker closed when
    it restarted, while the broker itself is back) is given one more try — a timeout is not."""
    started = time.monotonic()
    try:
        task.apply_async((part,), retry=False)
    except BROKER_ERRORS:
        if time.monotonic() - started >= FAST_FAILURE_SECONDS:
            raise
        task.apply_async((part,), retry=False)


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
