from celery import shared_task


@shared_task(name="processes.tasks.run_sweeps_task")
def run_sweeps_task() -> dict[str, int]:
    from .sweeps import run_all

    return run_all()


@shared_task(name="processes.tasks.monthly_random_check_task")
def monthly_random_check_task() -> dict[str, int]:
    """The monthly 双随机 draw over all departments (started by the system)."""
    from .services import random_check_start

    check = random_check_start(by=None)
    return {"check": check.pk, "drawn": len(check.drawn), "population": len(check.population)}
