from celery import shared_task


@shared_task(name="processes.tasks.run_sweeps_task")
def run_sweeps_task() -> dict[str, int]:
    from .sweeps import run_all

    return run_all()
