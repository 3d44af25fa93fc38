"""Every statement of the hot paths can be answered from an index (PostgreSQL).

The paths a platform runs at millions of rows — the public report, the queues, the inbox, a
filing, a completion, the dashboard, the sweeps, synchronisation — are driven here on a small
database, every statement they send is captured, and PostgreSQL is asked for each one's plan
with sequential scans priced out of reach (``enable_seqscan = off``). A plan that still reads one
of the large tables from end to end has no index to use: at ten million records that statement
would read them all. A test that fails names the statement and the table; the fix is an index
the statement can use (checked with EXPLAIN on the bench data), or a statement that uses one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import CreditRecordFactory, SubjectFactory
from tests.processes.helpers import (
    client_for,
    complete,
    file_objection,
    file_repair,
    open_task,
    sign_commitment,
)

pytestmark = pytest.mark.django_db(transaction=False)

# tables that grow with the platform (records, cases, their steps, logs, outboxes); the small
# ones (departments, users, policy, calendars, targets) are read whole on purpose
LARGE = {
    "registry_subject",
    "registry_creditrecord",
    "registry_historicalcreditrecord",
    "objections_objection",
    "repair_repair",
    "commitments_commitment",
    "processes_caseprocess",
    "processes_casetask",
    "processes_casetask_previous",
    "workdays_deadline",
    "audit_transitionlog",
    "audit_auditchain",
    "notifications_notification",
    "notifications_delivery",
    "sync_syncevent",
    "registry_decisiondocument",
    "creditlists_listentry",
    "creditlists_nationalreport",
    "commitments_creditcheck",
}

_SKIP = re.compile(r"^\s*(INSERT|COPY|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET|SHOW)\b", re.I)


def _full_scans(plan: dict[str, Any]) -> list[str]:
    """Large tables a plan reads from end to end: with sequential scans priced out, a
    ``Seq Scan`` left in a plan means no index can serve the statement. (A whole index walked
    without a condition is not counted: on a few rows the planner picks one as often as not,
    depending on the statistics other tests left behind.)"""
    node = plan.get("Node Type")
    found = (
        [plan["Relation Name"]] if node == "Seq Scan" and plan.get("Relation Name") in LARGE else []
    )
    for child in plan.get("Plans", []):
        found.extend(_full_scans(child))
    return found


_PLANNER_OFF = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


def _full_reads(queries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    bad = []
    with connection.cursor() as cursor:
        # statistics of this test's own rows, whatever other tests left behind
        for table in sorted(LARGE):
            cursor.execute(f"ANALYZE {table}")
        # on a small database the planner would hash or merge-join whole tables; at scale a
        # page's join is a nested loop into the other table's index — plan it so
        for setting in _PLANNER_OFF:
            cursor.execute(f"SET {setting} = off")
        try:
            for q in queries:
                sql = q["sql"]
                if not sql or _SKIP.match(sql):
                    continue
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                bad.extend((t, sql[:600]) for t in _full_scans(plan[0]["Plan"]))
        finally:
            for setting in _PLANNER_OFF:
                cursor.execute(f"RESET {setting}")
    return bad


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")


@pytest.fixture
def busy(postgresql, applicant, company, samr, centre_user, dept_samr, supervisor):
    """A few cases of each kind at each step, so every path has rows to find."""
    for _ in range(3):
        SubjectFactory()
    records = [CreditRecordFactory(subject=company, department=samr) for _ in range(4)]
    oid = file_objection(applicant, records[0])["id"]
    file_objection(applicant, records[1])
    rid = file_repair(applicant, records[2])["id"]
    cid = sign_commitment(applicant)["id"]
    return {"objection": oid, "repair": rid, "commitment": cid, "records": records}


def _captured(fn) -> list[dict[str, Any]]:
    """The statements ``fn`` sends (a response it returns must be a success: a refused request
    would be checked for less than its path)."""
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    status = getattr(result, "status_code", 200)
    assert status < 400, (status, getattr(result, "content", b"")[:300])
    return list(ctx.captured_queries)


def _page(user, path: str) -> None:
    c = Client()
    c.force_login(user)
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code)


def test_reading_paths_use_indexes(busy, applicant, company, centre_user, dept_samr, supervisor):
    queries: list[dict[str, Any]] = []
    public = Client()
    code = company.identifier
    queries += _captured(lambda: public.get(f"/api/v1/subjects/{code}/report/"))
    queries += _captured(lambda: public.get(f"/report/{code}/"))
    for user in (centre_user, dept_samr, supervisor):
        queries += _captured(lambda u=user: client_for(u).get("/api/v1/tasks/"))
        queries += _captured(lambda u=user: _page(u, "/queue/"))
    for query in (
        "kind=objection&step=objection_intake",
        "department=SAMR",
        "due=overdue",
        "due=soon",
        "mine=1",
        "sort=-due",
        "sort=received",
        "sort=-received",
    ):
        for user in (centre_user, supervisor):
            queries += _captured(lambda u=user, q=query: _page(u, f"/queue/?{q}"))
            queries += _captured(lambda u=user, q=query: client_for(u).get(f"/api/v1/tasks/?{q}"))
    queries += _captured(lambda: _page(applicant, "/inbox/"))
    queries += _captured(lambda: _page(applicant, f"/objections/{busy['objection']}/"))
    queries += _captured(lambda: _page(centre_user, f"/repairs/{busy['repair']}/"))
    queries += _captured(lambda: _page(applicant, f"/commitments/{busy['commitment']}/"))
    for user in (applicant, centre_user, dept_samr, supervisor):
        for path in ("/objections/", "/repairs/", "/commitments/"):
            queries += _captured(lambda u=user, p=path: _page(u, p))
    queries += _captured(lambda: _page(supervisor, "/dashboard/"))
    queries += _captured(lambda: _page(supervisor, "/dashboard/sync/"))
    queries += _captured(lambda: _page(dept_samr, "/dashboard/sync/"))
    queries += _captured(lambda: _page(dept_samr, "/dashboard/"))
    for state in ("open", "overdue", "soon", "late", "ontime"):
        queries += _captured(lambda s=state: _page(supervisor, f"/dashboard/steps/?state={s}"))
    for path in ("/dashboard/publicity/", "/dashboard/national-reports/"):
        queries += _captured(lambda p=path: _page(supervisor, p))
    queries += _captured(lambda: client_for(supervisor).get("/api/v1/dashboard/"))
    queries += _captured(lambda: client_for(dept_samr).get("/api/v1/dashboard/"))
    queries += _captured(lambda: client_for(applicant).get("/api/v1/notifications/"))
    for path in ("/lists/red/", "/lists/black/", "/api/v1/lists/red/", "/api/v1/lists/black/"):
        queries += _captured(lambda p=path: public.get(p))
    queries += _captured(lambda: public.get(f"/lists/black/?q={company.name}"))
    for kind in ("objections", "repairs", "commitments"):
        queries += _captured(lambda k=kind: client_for(centre_user).get(f"/api/v1/{k}/"))
        queries += _captured(lambda k=kind: client_for(applicant).get(f"/api/v1/{k}/"))
        queries += _captured(lambda k=kind: _page(centre_user, f"/{k}/?q={company.identifier}"))
    reference = client_for(applicant).get(f"/api/v1/objections/{busy['objection']}/").json()
    queries += _captured(lambda: _page(dept_samr, f"/objections/?q={reference['reference']}"))
    # part of a reference, part of a name (three characters or more: a trigram to look up)
    for q in (reference["reference"][2:10], company.name[2:6], "BENCH"):
        for kind in ("objections", "repairs", "commitments"):
            queries += _captured(lambda k=kind, q=q: _page(centre_user, f"/{k}/?q={q}"))
    assert len(queries) > 40
    bad = _full_reads(queries)
    assert bad == [], "\n".join(f"{t}: {q}" for t, q in bad)


def test_two_characters_of_a_name_are_read_from_the_bigram_index(busy, centre_user, company):
    """Two characters of a name (华为) have no trigram: a trigram index is walked whole for them
    (which the check above lets pass — it is an index) and the subjects were read whole at
    scale. The case lists find the subjects by the names' bigram index
    (workflow_app/textsearch.py). Not the commitments' list: its matter titles are searched
    too, and have no bigram index (each commitment transition would write one). The public
    lists join their entries (a few thousand) to the subjects: the planner may start from
    either, so their plan is not pinned here."""
    two = company.name[2:4]
    searches = [
        lambda k=kind: _page(centre_user, f"/{k}/?q={two}") for kind in ("objections", "repairs")
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_subject")
        for search in searches:
            statements = [q["sql"] for q in _captured(search) if "cw_bigrams" in q["sql"]]
            assert statements, "the search did not use the bigrams"
            for sql in statements:
                cursor.execute("SET enable_seqscan = off")
                try:
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0]
                finally:
                    cursor.execute("RESET enable_seqscan")
                text = plan if isinstance(plan, str) else json.dumps(plan)
                assert "subject_name_bigrams" in text and "subject_name_trgm" not in text, sql


def test_writing_paths_use_indexes(busy, applicant, centre_user, dept_samr, samr, company):
    queries: list[dict[str, Any]] = []
    record = CreditRecordFactory(subject=company, department=samr)
    queries += _captured(lambda: file_objection(applicant, record))
    task = open_task(busy["objection"], "objection_intake")
    queries += _captured(lambda: complete(centre_user, task, decision="accept"))
    task = open_task(busy["repair"], "repair_intake")
    queries += _captured(lambda: complete(centre_user, task, decision="route"))
    task = open_task(busy["repair"], "repair_decision")
    queries += _captured(lambda: complete(dept_samr, task, decision="approve"))
    queries += _captured(lambda: sign_commitment(applicant, matter_reference="SZ-SAMR-2"))
    task = open_task(busy["commitment"], "commitment_verification")
    queries += _captured(lambda: complete(dept_samr, task, decision="fulfilled"))
    queries += _captured(lambda: call_command("run_sweeps", verbosity=0))
    pushed = [
        {
            "external_id": f"SAMR-PLAN-{n}",
            "subject": {"kind": "legal_person", "identifier": company.identifier, "name": "企业"},
            "category": "licence",
            "nature": "positive",
            "title": f"行政许可 第{n}号",
            "content": "食品经营许可",
            "decision_date": "2025-01-02",
        }
        for n in range(3)
    ]
    importer = client_for(dept_samr)
    queries += _captured(lambda: importer.post("/api/v1/records/", pushed, format="json"))
    pushed[0]["title"] = "行政许可 第0号（更正）"  # a new version of a pushed record
    queries += _captured(lambda: importer.post("/api/v1/records/", pushed, format="json"))
    assert len(queries) > 30
    bad = _full_reads(queries)
    assert bad == [], "\n".join(f"{t}: {q}" for t, q in bad)


def test_acting_paths_use_indexes(
    busy, applicant, company, centre_user, dept_samr, supervisor, samr
):
    """Claiming, releasing and assigning tasks, withdrawing, a repair's eligibility, a random
    check, a credit check, a decision's verification, reading the inbox."""
    from workflow_app.registry.models import DecisionDocument

    queries: list[dict[str, Any]] = []
    centre, boss = client_for(centre_user), client_for(supervisor)
    task = open_task(busy["objection"], "objection_intake")
    queries += _captured(lambda: centre.post(f"/api/v1/tasks/{task.pk}/claim/"))
    queries += _captured(lambda: centre.post(f"/api/v1/tasks/{task.pk}/release/"))
    queries += _captured(
        lambda: boss.post(
            "/api/v1/tasks/assign/", {"tasks": [task.pk], "assignee": "centre"}, format="json"
        )
    )
    queries += _captured(lambda: _page(centre_user, f"/tasks/{task.pk}/"))
    record = busy["records"][3]
    queries += _captured(
        lambda: client_for(applicant).get(f"/api/v1/records/{record.pk}/repair-eligibility/")
    )
    other = file_objection(applicant, CreditRecordFactory(subject=company, department=samr))
    queries += _captured(
        lambda: client_for(applicant).post(f"/api/v1/objections/{other['id']}/withdraw/")
    )
    queries += _captured(lambda: boss.post("/api/v1/random-checks/", {"seed": 7}, format="json"))
    queries += _captured(lambda: _page(supervisor, "/random-checks/"))
    queries += _captured(
        lambda: client_for(dept_samr).get(
            f"/api/v1/subjects/{company.identifier}/credit-check/?matter_reference=M-1"
        )
    )
    complete(centre_user, open_task(busy["repair"], "repair_intake"), decision="route")
    complete(dept_samr, open_task(busy["repair"], "repair_decision"), decision="approve")
    code = DecisionDocument.objects.values_list("code", flat=True).first()
    assert code
    queries += _captured(lambda: Client().get(f"/api/v1/verify/{code}/"))
    queries += _captured(lambda: Client().get(f"/verify/{code}/"))
    queries += _captured(lambda: client_for(applicant).post("/api/v1/notifications/read-all/"))
    assert len(queries) > 30
    bad = _full_reads(queries)
    assert bad == [], "\n".join(f"{t}: {q}" for t, q in bad)
