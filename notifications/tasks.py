"""Celery tasks: they take ids, never instances, and are idempotent (a delivered row is skipped)."""

from __future__ import annotations

import logging

from celery import shared_task

from .services import deliver, redeliver_pending

logger = logging.getLogger(__name__)


@shared_task(
    name="notifications.tasks.deliver_task",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def deliver_task(delivery_id: int) -> str:
    """Deliver one outbox row; failures are recorded on the row and retried with backoff."""
    return deliver(delivery_id)


@shared_task(name="notifications.tasks.deliver_pending")
def deliver_pending(ids: list[int]) -> int:
    """Deliver the rows one ``notify`` call wrote (one message per call, not per row). A row
    that fails is handed to ``deliver_task`` and retried with backoff on its own."""
    sent = 0
    for delivery_id in ids:
        try:
            if deliver(delivery_id) == "sent":
                sent += 1
        except Exception:  # noqa: BLE001 - recorded on the row; retried separately
            logger.warning("delivery %s failed; retrying later", delivery_id, exc_info=True)
            try:
                deliver_task.apply_async((delivery_id,), countdown=30)
            except Exception:  # noqa: BLE001 - the redelivery sweep picks the row up
                logger.exception("could not queue a retry of delivery %s", delivery_id)
    return sent


@shared_task(name="notifications.tasks.redeliver_task")
def redeliver_task() -> int:
    """Queue again outbox rows that were never delivered."""
    return redeliver_pending()
