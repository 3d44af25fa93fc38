"""Two caseworkers complete the same task at the same moment: one transition, one 409 (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from objections.models import Objection
from processes import services
from processes.models import CaseProcess
from tests.factories import CreditRecordFactory, UserFactory
from tests.processes.helpers import PDF_BYTES, file_objection, open_task
from workflow_app.api import Conflict
from workflow_app.audit.models import TransitionLog

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(task_id: int, users, decision: str, data: dict) -> dict[str, str]:
    """Both users complete the same task behind a barrier; returns each one's outcome."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def work(user):
        try:
            barrier.wait(timeout=10)
            services.task_complete(task_id=task_id, user=user, decision=decision, data=data)
            outcomes[user.username] = "ok"
        except Conflict as exc:
            outcomes[user.username] = f"409: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[user.username] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_concurrent_completions_give_one_transition_and_one_conflict(applicant, company, samr):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")
    record = CreditRecordFactory(subject=company, department=samr)
    alice = UserFactory(username="centre_a", centre=True)
    bob = UserFactory(username="centre_b", centre=True)
    case = file_objection(applicant, record)["id"]
    task_id = open_task(case, "objection_intake").pk

    outcomes = _race(task_id, (alice, bob), "accept", {})

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


def test_two_department_caseworkers_approve_one_repair_at_once(
    applicant, company, samr, centre_user
):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")
    import datetime

    from tests.processes.helpers import complete, file_repair

    record = CreditRecordFactory(
        subject=company, department=samr, decision_date=datetime.date(2025, 1, 6)
    )
    alice = UserFactory(username="samr_a", role="department", department=samr)
    bob = UserFactory(username="samr_b", role="department", department=samr)
    case = file_repair(applicant, record)["id"]
    complete(centre_user, open_task(case, "repair_intake"), decision="route")
    task_id = open_task(case, "repair_decision").pk

    outcomes = _race(task_id, (alice, bob), "approve", {"reason": "已整改"})

    results = list(outcomes.values())
    assert len(results) == 2, outcomes
    assert results.count("ok") == 1, outcomes
    conflict = next(r for r in results if r != "ok")
    assert conflict.startswith("409"), outcomes
    assert (
        TransitionLog.objects.filter(
            case_kind="repair", case_id=case, event="transition", to_state="approved"
        ).count()
        == 1
    )
    from commitments.models import Commitment

    assert Commitment.objects.filter(repair_id=case).count() == 1
    record.refresh_from_db()
    assert record.status == "repaired"


def test_two_supervisors_confirm_one_breach_at_once(applicant, company, samr, dept_samr):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")
    from commitments.models import Commitment
    from tests.processes.helpers import complete
    from tests.processes.helpers import sign_commitment as sign
    from workflow_app.registry.models import CreditRecord

    alice = UserFactory(username="sup_a", supervisor=True)
    bob = UserFactory(username="sup_b", supervisor=True)
    cid = sign(applicant)["id"]
    complete(
        dept_samr,
        open_task(cid, "commitment_verification"),
        decision="breach_suspected",
        reason="x",
    )
    task_id = open_task(cid, "breach_review").pk

    outcomes = _race(task_id, (alice, bob), "confirm", {"reason": "属实"})

    results = list(outcomes.values())
    assert results.count("ok") == 1, outcomes
    assert next(r for r in results if r != "ok").startswith("409"), outcomes
    assert (
        TransitionLog.objects.filter(
            case_kind="commitment", case_id=cid, event="transition", to_state="breach_confirmed"
        ).count()
        == 1
    )
    assert CreditRecord.objects.filter(external_id__startswith="CN-").count() == 1
    assert Commitment.objects.get(pk=cid).status == "breach_confirmed"


def _file_at_once(applicant, record_ids: list[int]) -> list[str]:
    """The applicant files one objection per record id, all behind one barrier."""
    barrier = threading.Barrier(len(record_ids))
    outcomes: list[str] = []

    def work(record_id):
        try:
            barrier.wait(timeout=10)
            case = services.case_file(
                "objection",
                applicant=applicant,
                record_id=record_id,
                grounds="error",
                description="金额有误",
                commitment_accepted=True,
                files=[SimpleUploadedFile("proof.pdf", PDF_BYTES, "application/pdf")],
            )
            outcomes.append(f"ok {case.reference}")
        except Conflict as exc:
            outcomes.append(f"409 {exc.code}")
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes.append(f"error: {exc!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(r,)) for r in record_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_concurrent_filings_get_their_own_ids_and_one_per_record(applicant, company, samr):
    """Ids are reserved before the INSERT (case_next_id): filings at the same moment get distinct
    ids and references; two filings on one record give one case and one 409."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")
    records = [CreditRecordFactory(subject=company, department=samr) for _ in range(3)]
    outcomes = _file_at_once(applicant, [r.pk for r in records])
    assert sorted(o[:2] for o in outcomes) == ["ok"] * 3, outcomes
    assert len(set(outcomes)) == 3  # three different references
    for o in Objection.objects.all():
        assert o.reference.endswith(f"{o.pk:07d}")
        assert [h.history_type for h in o.history.all()] == ["+"]

    twice = CreditRecordFactory(subject=company, department=samr)
    outcomes = _file_at_once(applicant, [twice.pk, twice.pk])
    assert sorted(outcomes)[0].startswith("409 duplicate_open"), outcomes
    assert sum(o.startswith("ok") for o in outcomes) == 1, outcomes
    case = Objection.objects.get(record=twice)
    assert CaseProcess.objects.filter(case_kind="objection", case_id=case.pk).count() == 1


def test_a_task_action_locks_the_process_row_before_the_task_row(applicant, company, samr):
    """Every path takes the flow lock (the process row) first: the task action's one statement
    that locks both must not hold the task row while it waits for the process row, or a
    withdrawal holding the process and cancelling the task would deadlock with it."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock order is tested on PostgreSQL")
    from django.db import OperationalError, transaction

    record = CreditRecordFactory(subject=company, department=samr)
    task = open_task(file_objection(applicant, record)["id"], "objection_intake")
    holding, release, waiting_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_process():
        try:
            with transaction.atomic():
                CaseProcess.objects.select_for_update().get(pk=task.process_id)
                holding.set()
                release.wait(timeout=20)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def lock_task():
        try:
            with transaction.atomic():
                services._TASK_AND_PROCESS_LOCKED.one(task.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            waiting_done.set()
            connections.close_all()

    holder = threading.Thread(target=hold_process)
    holder.start()
    assert holding.wait(timeout=10)
    locker = threading.Thread(target=lock_task)
    locker.start()
    try:
        # the locker is now waiting for the process row; the task row must still be free
        deadline = 50
        while deadline and not waiting_done.is_set():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'SELECT \"processes_casetask\".%%'"
                )
                if cursor.fetchone()[0]:
                    break
            threading.Event().wait(0.1)
            deadline -= 1
        assert deadline and not waiting_done.is_set(), "the locker did not wait for the process"
        with transaction.atomic():
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        'SELECT 1 FROM "processes_casetask" WHERE id = %s FOR UPDATE NOWAIT',
                        [task.pk],
                    )
                task_free = True
            except OperationalError:
                task_free = False
        assert task_free, "the task row was locked before the process row"
    finally:
        release.set()
        holder.join(timeout=30)
        locker.join(timeout=30)
    assert not errors, errors
