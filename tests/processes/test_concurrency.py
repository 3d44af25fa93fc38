"""Two caseworkers complete the same task at the same moment: one transition, one 409 (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from processes import services
from tests.factories import CreditRecordFactory, UserFactory
from tests.processes.helpers import file_objection, open_task
from workflow_app.api import Conflict
from workflow_app.audit.models import TransitionLog

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_completions_give_one_transition_and_one_conflict(applicant, company, samr):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")
    record = CreditRecordFactory(subject=company, department=samr)
    alice = UserFactory(username="centre_a", centre=True)
    bob = UserFactory(username="centre_b", centre=True)
    case = file_objection(applicant, record)["id"]
    task_id = open_task(case, "objection_intake").pk

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def work(user):
        try:
            barrier.wait(timeout=10)
            services.task_complete(task_id=task_id, user=user, decision="accept", data={})
            outcomes[user.username] = "ok"
        except Conflict as exc:
            outcomes[user.username] = f"409: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[user.username] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u,)) for u in (alice, bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    results = list(outcomes.values())
    assert len(results) == 2, outcomes
    assert results.count("ok") == 1, outcomes
    conflict = next(r for r in results if r != "ok")
    assert conflict.startswith("409") and "办理完毕" in conflict, outcomes
    assert (
        TransitionLog.objects.filter(case_id=case, event="transition", to_state="accepted").count()
        == 1
    )
    assert open_task(case, "objection_platform_check")  # the flow moved on exactly once
