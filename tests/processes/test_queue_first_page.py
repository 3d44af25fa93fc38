"""The first page of an unfiltered queue is read by a query compiled once per shape of queue
(processes.selectors._first_page_ids, PostgreSQL): the same tasks in the same order as the
queue's own definition (task_queue_for), for every role, sort and "mine"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import services
from processes.selectors import SORTS, task_queue_for, task_queue_page
from tests.factories import CreditRecordFactory
from tests.processes.helpers import complete, file_objection, open_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the compiled page is PostgreSQL's"
    ),
]


def test_the_compiled_first_page_is_the_queue_in_its_order(
    applicant, company, samr, centre_user, dept_samr, supervisor
):
    tasks = [
        open_task(
            file_objection(applicant, CreditRecordFactory(subject=company, department=samr))["id"],
            "objection_intake",
        )
        for _ in range(5)
    ]
    services.task_claim(task_id=tasks[3].pk, user=centre_user)
    # two cases at the department: one in its group's queue, one claimed by its caseworker
    for task in tasks[:2]:
        complete(centre_user, task, decision="accept")
        complete(
            centre_user, open_task(task.case_id, "objection_platform_check"), decision="forward"
        )
    services.task_claim(
        task_id=open_task(tasks[1].case_id, "objection_verification").pk, user=dept_samr
    )
    for user in (centre_user, dept_samr, supervisor):
        for sort in SORTS:
            for mine in (False, True):
                page, more = task_queue_page(user, sort=sort, mine=mine)
                expected = list(
                    task_queue_for(user, mine=mine)
                    .order_by(*SORTS[sort])
                    .values_list("id", flat=True)[:50]
                )
                assert [t.pk for t in page] == expected, (user.username, sort, mine)
                assert more is False
    assert [t.pk for t in task_queue_page(centre_user, mine=True)[0]] == [tasks[3].pk]
    assert len(task_queue_page(centre_user)[0]) == 3
    department = task_queue_page(dept_samr)[0]
    assert {t.case_id for t in department} == {tasks[0].case_id, tasks[1].case_id}
    assert {t.owner_id for t in department} == {None, dept_samr.pk}
    # a later view: the ids and the rows, two statements
    with CaptureQueriesContext(connection) as ctx:
        task_queue_page(centre_user)
    assert len(ctx.captured_queries) == 2
