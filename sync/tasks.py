from celery import shared_task


@shared_task(name="sync.tasks.deliver_sync_event", acks_late=True, ignore_result=True)
def deliver_sync_event(event_id: int) -> str:
    """Deliver one synchronisation row (idempotent; retries are scheduled on the row and queued
    by the sweep, so a lost message or a dead worker loses nothing)."""
    from .services import sync_deliver

    return sync_deliver(event_id)
