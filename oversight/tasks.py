from celery import shared_task


@shared_task(name="oversight.tasks.rollup_dashboard_task")
def rollup_dashboard_task() -> int:
    """Sum the ended days, and the day going on so far, into the dashboard's rollups
    (idempotent; builders serialise)."""
    from .rollups import rollup_build

    return rollup_build()
