"""The flow nodes that write each task row once (processes.nodes) leave the rows viewflow's own
nodes leave: every node of the path as a task, in order, each linked to the one before, done,
and the process finished — and a human task carries its queue columns from its first write."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.models import CaseProcess, CaseTask
from tests.factories import CreditRecordFactory
from tests.processes.helpers import client_for, file_objection, open_task

pytestmark = pytest.mark.django_db


def _complete(user, task, **data):
    r = client_for(user).post(f"/api/v1/tasks/{task.pk}/complete/", data, format="json")
    assert r.status_code == 200, r.content


def _path(process):
    tasks = list(process.task_set.order_by("id").prefetch_related("previous"))
    return tasks, [(t.flow_task.name, t.flow_task_type, t.status) for t in tasks]


def test_rows_of_a_whole_objection_flow(applicant, company, samr, centre_user, dept_samr):
    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    _complete(centre_user, open_task(oid, "objection_intake"), decision="accept")
    _complete(centre_user, open_task(oid, "objection_platform_check"), decision="forward")
    _complete(
        dept_samr,
        open_task(oid, "objection_verification"),
        decision="resolve",
        outcome="confirmed",
        reason="核查无误",
    )

    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    assert process.status == "DONE" and process.finished is not None
    tasks, path = _path(process)
    assert path == [
        ("start", "START", "DONE"),
        ("intake", "HUMAN", "DONE"),
        ("after_intake", "SWITCH", "DONE"),
        ("platform_check", "HUMAN", "DONE"),
        ("after_platform_check", "SWITCH", "DONE"),
        ("verification", "HUMAN", "DONE"),
        ("end", "END", "DONE"),
    ]
    for before, task in zip(tasks, tasks[1:], strict=False):
        assert [p.pk for p in task.previous.all()] == [before.pk], task.flow_task.name
    assert all(t.finished is not None for t in tasks)
    assert {str(t.token) for t in tasks} == {str(tasks[0].token)}
    for task in tasks:
        if task.flow_task_type == "HUMAN":
            assert task.deadline is not None and task.deadline.kind == task.step
            assert task.due_at == task.deadline.due_at and task.queue == task.deadline.queue


def test_a_human_task_is_written_once_with_its_queue_columns(applicant, company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    with CaptureQueriesContext(connection) as q:
        _complete(centre_user, open_task(oid, "objection_intake"), decision="accept")
    task_writes = [
        x["sql"]
        for x in q.captured_queries
        if '"processes_casetask' in x["sql"] and not x["sql"].startswith("SELECT")
    ]
    if connection.vendor == "postgresql":
        # the intake task done, the route inserted done and the platform check inserted with
        # its columns, and their `previous` links: one statement (processes.nodes._write_step)
        assert len(task_writes) == 1
        step = task_writes[0]
        assert step.startswith('WITH "u0" AS (UPDATE "processes_casetask"')
        assert '"new" AS (INSERT INTO "processes_casetask"' in step
        assert '"links" AS (INSERT INTO "processes_casetask_previous"' in step
    else:  # the update, each new row, the links in one INSERT
        assert [x.split(" (")[0].split(" SET")[0] for x in task_writes] == [
            'UPDATE "processes_casetask"',
            'INSERT INTO "processes_casetask"',
            'INSERT INTO "processes_casetask"',
            'INSERT INTO "processes_casetask_previous"',
        ]
    # only the request's own transaction (a savepoint inside the test's transaction)
    assert len([x for x in q.captured_queries if "SAVEPOINT" in x["sql"]]) == 2
    new = CaseTask.objects.get(case_kind="objection", case_id=oid, step="objection_platform_check")
    assert new.queue == "centre" and new.due_at and new.subject_name == company.name


def test_a_supplement_resumes_the_flow_under_the_one_process_lock(
    applicant, company, samr, centre_user
):
    """The applicant's supplement completes the waiting step: the process row is locked once
    (by the service), the waiting task is not read again, no savepoint is opened for it."""
    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    _complete(
        centre_user, open_task(oid, "objection_intake"), decision="request_supplement", reason="补"
    )
    with CaptureQueriesContext(connection) as q:
        r = client_for(applicant).post(
            f"/api/v1/objections/{oid}/supplement/", {"text": "已补充。"}, format="json"
        )
    assert r.status_code == 200, r.content
    process_reads = [x["sql"] for x in q.captured_queries if '"processes_caseprocess"' in x["sql"]]
    assert len(process_reads) == 1
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in process_reads[0]
    # only the request's own transaction (a savepoint inside the test's transaction)
    assert len([x for x in q.captured_queries if "SAVEPOINT" in x["sql"]]) == 2
    # the new intake task takes the deadline the supplement just opened (one read: the response)
    deadline_reads = [
        x for x in q.captured_queries if x["sql"].startswith('SELECT "workdays_deadline"')
    ]
    assert len(deadline_reads) == 1
    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    _tasks, path = _path(process)
    assert path[-4:] == [
        ("after_intake", "SWITCH", "DONE"),
        ("await_supplement", "FUNCTION", "DONE"),
        ("after_supplement", "SWITCH", "DONE"),
        ("intake", "HUMAN", "NEW"),
    ]


def test_a_gateways_task_finished_is_sent_once_its_row_is_written(
    applicant, company, samr, centre_user
):
    from viewflow.workflow.signals import task_finished

    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    seen: list[tuple] = []

    def on_finished(sender, process, task, **kw):
        row = CaseTask.objects.filter(pk=task.pk).values_list("status", flat=True).first()
        seen.append((task.flow_task.name, task.pk is not None, row))

    task_finished.connect(on_finished)
    try:
        _complete(centre_user, open_task(oid, "objection_intake"), decision="accept")
    finally:
        task_finished.disconnect(on_finished)
    assert seen == [("intake", True, "DONE"), ("after_intake", True, "DONE")]
    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    route = process.task_set.get(flow_task_type="SWITCH")
    new = CaseTask.objects.get(case_kind="objection", case_id=oid, step="objection_platform_check")
    assert route.pk < new.pk and route.finished is not None and new.status == "NEW"
    assert [p.pk for p in new.previous.all()] == [route.pk]


def test_a_filing_writes_the_start_row_with_the_first_tasks(applicant, company, samr):
    from viewflow.workflow.signals import flow_started, task_finished

    record = CreditRecordFactory(subject=company, department=samr)
    seen: list[tuple] = []

    def on_signal(sender, process, task, **kw):
        written = CaseTask.objects.filter(pk=task.pk).values_list("status", flat=True).first()
        seen.append((kw["signal"] is flow_started, task.flow_task.name, written))

    task_finished.connect(on_signal)
    flow_started.connect(on_signal)
    try:
        with CaptureQueriesContext(connection) as q:
            oid = file_objection(applicant, record)["id"]
    finally:
        task_finished.disconnect(on_signal)
        flow_started.disconnect(on_signal)
    writes = [
        x["sql"]
        for x in q.captured_queries
        if '"processes_casetask' in x["sql"] and not x["sql"].startswith("SELECT")
    ]
    if connection.vendor == "postgresql":
        # the start's row, the intake task's and its `previous` link: one statement
        assert len(writes) == 1
        assert '"new" AS (INSERT INTO "processes_casetask"' in writes[0]
        assert '"links" AS (INSERT INTO "processes_casetask_previous"' in writes[0]
    else:
        assert [x.split(" (")[0] for x in writes] == [
            'INSERT INTO "processes_casetask"',
            'INSERT INTO "processes_casetask"',
            'INSERT INTO "processes_casetask_previous"',
        ]
    # the start's signals are sent once its row is written, in viewflow's order
    assert seen == [(False, "start", "DONE"), (True, "start", "DONE")]
    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    tasks, path = _path(process)
    assert path == [("start", "START", "DONE"), ("intake", "HUMAN", "NEW")]
    assert [p.pk for p in tasks[1].previous.all()] == [tasks[0].pk]
    assert tasks[0].finished is not None and tasks[1].queue == "centre"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_step_whose_completed_task_is_gone_writes_nothing(applicant, company, samr):
    """The step's statement (processes.nodes._write_step) checks its UPDATE found the row: a
    completed task that is gone is an error, and the new rows written with it are undone."""
    from django.db import DatabaseError, transaction

    from processes.nodes import _write_step

    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    intake = open_task(oid, "objection_intake")
    gone = CaseTask.objects.get(pk=intake.pk)
    gone.pk = intake.pk + 10_000  # no such row
    route = process.flow_class.after_intake
    new = CaseTask(process=process, flow_task=route, flow_task_type="SWITCH", status="DONE")
    before = CaseTask.objects.count()
    with transaction.atomic():
        with pytest.raises(DatabaseError):
            _write_step([gone], [new], [(new, intake)])
        # the statement wrote the new row; the error leaves the step's transaction unable to
        # commit it (whatever catches the error), and its end undoes it
        assert transaction.get_rollback()
    assert CaseTask.objects.count() == before


def test_a_steps_rows_of_one_node_twice_are_written_one_at_a_time(applicant, company, samr):
    """Rows are matched to their ids by node: two new rows of one node in a step (which our
    sequential flows never make) are left to one statement a row, with the same result."""
    from processes.nodes import _insert, _write_step

    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    process = CaseProcess.objects.get(case_kind="objection", case_id=oid)
    intake = open_task(oid, "objection_intake")
    route = process.flow_class.after_intake
    first, second = (
        CaseTask(process=process, flow_task=route, flow_task_type="SWITCH", status="DONE")
        for _ in range(2)
    )
    before = CaseTask.objects.count()
    assert _write_step([], [first, second], [(first, intake), (second, first)]) is False
    assert CaseTask.objects.count() == before and first.pk is None  # nothing written
    process._pending_rows = [(first, ())]
    process._pending_links = [(first, intake)]
    _insert(second, first)
    assert CaseTask.objects.count() == before + 2
    assert [p.pk for p in CaseTask.objects.get(pk=second.pk).previous.all()] == [first.pk]
    assert [p.pk for p in CaseTask.objects.get(pk=first.pk).previous.all()] == [intake.pk]
