"""Query counts of the hot paths, pinned: one filing and the busiest completion of each workflow
(issue: speed at scale). Counts include SAVEPOINT/RELEASE statements. A change that adds a query
fails here; lower the pin when a change removes some."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from tests.factories import CreditRecordFactory
from tests.processes.helpers import (
    client_for,
    file_objection,
    file_repair,
    open_task,
    sign_commitment,
)

pytestmark = pytest.mark.django_db

# statements per request, on SQLite and on PostgreSQL; an objection accept
# was 56 before the kernel helpers stopped opening savepoints and an unclaimed completion stopped saving twice;
# 37 before the credit record was locked once and the new task took the deadline just opened
# and the case the transition had locked; 33 before the process was locked and read in one
# statement, the case was locked once for the handler and its transition, and the flow's nodes
# wrote each task row once (processes.nodes); filings were 44/50/45 before a new audit chain head
# was created in one statement and the first task took the deadline just opened, and 40/46/41
# before the flow started without locking the process it had just inserted and the first task
# took the case just filed, and 31/38/30 before a case's id was reserved before its INSERT so its
# reference goes in with the row; a gateway's `previous` link is written with the next task's;
# filings were 30/37/28 before the domain's filing service stopped opening savepoints inside the
# filing's transaction and the 201 answer stopped reading the timeline, decision and evidence it
# does not show; a repair approve was 40 before the repair commitment it creates stopped opening
# a savepoint; completions were 21/38/18 before an unclaimed task's new holder was written to its
# deadline by the deadline's close; filings were 22/29/23 and a repair approve 37 before a case's
# first audit entry stopped reading the chain head that is not there yet; on PostgreSQL an
# audit entry's INSERT and its chain head's UPDATE are one statement (workflow_app/audit), and
# so are a case's or a record's INSERT or UPDATE and its history row
# (workflow_app/writes.py): there an objection accept was 19 before, the filings 20 / 26 / 21;
# and (SQLite / PostgreSQL) filings 21 / 19, 27 / 25, 22 / 20, accept 20 / 17, repair approve
# 36 / 32, verification 17 / 15 before a repair filing stopped reading its locked record
# again, the task and its process were locked in one statement, and on PostgreSQL an evidence
# row went in with its history row, a gateway's or a start's task row with the next task's
# row, and several notification rows or links in one INSERT (writes.insert_rows); filings
# 18 / 21 / 18 there before a case's first audit entry went in with its new chain's head;
# a repair filing 25 / 20 before its eligibility rules read the open objection, the open
# repair and the last approval in one statement (repair.selectors.eligibility_facts) and, on
# PostgreSQL, its two deadlines went in with one INSERT (workdays.deadlines.deadlines_open);
# on PostgreSQL filings 17 / 17 / 17, accept 15, repair approve 26 and verification 13 before
# a step's task writes (the completed task's UPDATE, an ending process's, the new task rows and
# their `previous` links) went in one statement (processes.nodes._write_step), and accept 13
# before a step's deadline was closed in the statement that opens the next one
PINS = {  # (SQLite, PostgreSQL)
    "objection filing": (21, 16),
    "objection accept": (19, 12),
    "repair filing": (23, 16),
    "repair approve": (35, 21),
    "commitment signing": (22, 16),
    "commitment verification": (16, 10),
}


def pin(name: str) -> int:
    return PINS[name][connection.vendor == "postgresql"]


def _complete(user, task, **data):
    r = client_for(user).post(f"/api/v1/tasks/{task.pk}/complete/", data, format="json")
    assert r.status_code == 200, r.content
    return r


def test_objection(django_assert_max_num_queries, applicant, company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    with django_assert_max_num_queries(pin("objection filing")):
        oid = file_objection(applicant, record)["id"]
    task = open_task(oid, "objection_intake")
    with django_assert_max_num_queries(pin("objection accept")):
        _complete(centre_user, task, decision="accept")


def test_repair(django_assert_max_num_queries, applicant, company, samr, centre_user, dept_samr):
    record = CreditRecordFactory(
        subject=company, department=samr, decision_date=datetime.date(2025, 6, 3)
    )
    with django_assert_max_num_queries(pin("repair filing")):
        rid = file_repair(applicant, record)["id"]
    _complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    task = open_task(rid, "repair_decision")
    with django_assert_max_num_queries(pin("repair approve")):
        _complete(dept_samr, task, decision="approve", reason="已整改")


def test_commitment(django_assert_max_num_queries, applicant, samr, dept_samr):
    with django_assert_max_num_queries(pin("commitment signing")):
        cid = sign_commitment(applicant)["id"]
    task = open_task(cid, "commitment_verification")
    with django_assert_max_num_queries(pin("commitment verification")):
        _complete(dept_samr, task, decision="fulfilled")
