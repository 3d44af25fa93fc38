"""Every completion writes three task rows, a case row and its history row: those tables carry
the indexes their readers use — the queues, case pages, counts and foreign keys — and not
viewflow's own (timers, jobs, permissions), simple-history's copies, or PostgreSQL's LIKE twins."""

from __future__ import annotations

import pytest
from django.db import connection

from commitments.models import Commitment
from objections.models import Objection
from processes.models import CaseProcess, CaseTask
from repair.models import Repair
from workflow_app.registry.models import DecisionDocument

pytestmark = pytest.mark.django_db

NEVER_QUERIED = {
    "status",
    "scheduled",
    "external_task_id",
    "owner_permission_content_type_id",
    "seed_content_type_id",
    "artifact_content_type_id",
}


def _indexed_columns(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in constraints.values() if c["index"] and c["columns"]]


@pytest.mark.parametrize("model", [CaseTask, CaseProcess])
def test_no_index_leads_with_a_column_nobody_queries_by(model):
    leading = {columns[0] for columns in _indexed_columns(model._meta.db_table)}
    assert leading & NEVER_QUERIED == set()


def test_the_queues_and_case_lookups_keep_their_indexes():
    columns = _indexed_columns(CaseTask._meta.db_table)
    for needed in (
        ["queue", "due_at", "id"],
        ["owner_id", "due_at", "id"],
        ["case_kind", "case_id"],
        ["process_id"],
        ["due_at", "id"],
    ):
        assert needed in columns, needed


CASE_MODELS = [Objection, Repair, Commitment]


@pytest.mark.parametrize("model", [*CASE_MODELS, DecisionDocument])
def test_history_is_indexed_by_what_reads_it_only(model):
    """One history row per transition; history is read through its case (by id, by date)."""
    leading = {columns[0] for columns in _indexed_columns(model.history.model._meta.db_table)}
    assert (
        {"id", "history_date"} <= leading <= {"history_id", "id", "history_date", "history_user_id"}
    )


@pytest.mark.parametrize("model", CASE_MODELS)
def test_case_tables_carry_no_like_twins(model):
    if connection.vendor != "postgresql":
        pytest.skip("the LIKE twins are PostgreSQL's")
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert [n for n in names if n.endswith("_like")] == []
    # counts of open cases: an index leads with the status
    assert any(c["columns"][:1] == ["status"] for c in names.values())


# tables written on the hot paths (filings, completions, deliveries, imports)
WRITTEN_OFTEN = [
    "objections_objection",
    "repair_repair",
    "commitments_commitment",
    "commitments_creditcheck",
    "notifications_notification",
    "notifications_delivery",
    "creditlists_listentry",
    "sync_syncevent",
    "processes_casetask",
    "processes_caseprocess",
    "workdays_deadline",
    "registry_creditrecord",
    "audit_transitionlog",
]


def test_no_index_repeats_the_leading_columns_of_another():
    """Every row written maintains every index of its table: a plain index on columns that a
    full (not partial) index already leads with, or repeats, costs each write and serves no read
    (PostgreSQL answers such lookups, foreign-key checks included, from the other index)."""
    if connection.vendor != "postgresql":
        pytest.skip("index definitions are read from PostgreSQL's catalogue")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, ix.indisunique, ix.indpred IS NOT NULL,
                   ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                         ORDER BY k.n)::text[],
                   ix.indclass::oid[]::text[]
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_class i ON i.oid = ix.indexrelid
            WHERE t.relname = ANY(%s) AND ix.indexprs IS NULL
            """,
            [WRITTEN_OFTEN],
        )
        rows = cursor.fetchall()
    redundant = []
    for table, name, unique, partial, columns, opclasses in rows:
        if unique or partial:
            continue
        for other_table, other, other_unique, other_partial, other_columns, other_opclasses in rows:
            if other_table != table or other == name or other_partial:
                continue
            longer = len(other_columns) > len(columns)
            # an exact copy is reported once (a plain copy of a unique index, always)
            same = len(other_columns) == len(columns) and (other_unique or other < name)
            if (
                (longer or same)
                and other_columns[: len(columns)] == columns
                and other_opclasses[: len(columns)] == opclasses
            ):
                redundant.append(f"{table}.{name} {columns} (covered by {other})")
    assert redundant == []
