import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="sync.tasks.deliver_sync_event", acks_late=True, ignore_result=True)
def deliver_sync_event(event_id: int) -> str:
    """Deliver one synchronisation row (messages queued before ``deliver_sync_events``;
    idempotent; retries are scheduled on the row and queued by the sweep, so a lost message or a
    dead worker loses nothing)."""
    from .services import sync_deliver

    return sync_deliver(event_id)


@shared_task(name="sync.tasks.deliver_sync_events", acks_late=True, ignore_result=True)
def deliver_sync_events(event_ids: list[int]) -> int:
    """Deliver the rows of one message one after another; a row that fails is retried on its
    own schedule (``sync_deliver``) and does not stop the others. Returns how many of them
    are delivered."""
    from .services import sync_deliver

    delivered = 0
    for pk in event_ids:
        try:
            delivered += sync_deliver(pk) == "delivered"
        except Exception:  # noqa: BLE001 - the row stays pending; the sweep queues it again
            logger.exception("synchronisation event %s could not be delivered now", pk)
    return delivered
