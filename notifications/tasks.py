"""Celery tasks: they take ids, never instances, and are idempotent."""

from __future__ import annotations

from celery import shared_task

from .services import DeliveryRetry, deliver, redeliver_pending


@shared_task(
    name="notifications.tasks.deliver_task",
    autoretry_for=(DeliveryRetry,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def deliver_task(delivery_id: int) -> str:
    return deliver(delivery_id)


@shared_task(name="notifications.tasks.redeliver_task")
def redeliver_task() -> int:
    return redeliver_pending()
