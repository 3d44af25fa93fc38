"""Every index of the records tables is maintained by each import of records: none may only repeat
the leading columns of another (the other serves the same lookups)."""

from __future__ import annotations

import pytest
from django.db import connection

from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: c
        for name, c in constraints.items()
        if (c["index"] or c["unique"]) and c["columns"] and not c.get("foreign_key")
    }


def _partial(name: str) -> bool:
    return name in {i.name for i in CreditRecord._meta.indexes if i.condition is not None}


@pytest.mark.parametrize(
    "table", [CreditRecord._meta.db_table, CreditRecord.history.model._meta.db_table]
)
def test_no_index_repeats_the_leading_columns_of_another(table):
    indexes = _indexes(table)
    redundant = [
        (name, other)
        for name, c in indexes.items()
        if not c["unique"] and not c["primary_key"] and not _partial(name)
        for other, o in indexes.items()
        if other != name
        and not _partial(other)
        and len(o["columns"]) >= len(c["columns"])
        and o["columns"][: len(c["columns"])] == c["columns"]
    ]
    assert redundant == []


def test_history_is_indexed_for_reading_a_records_versions():
    columns = [c["columns"] for c in _indexes(CreditRecord.history.model._meta.db_table).values()]
    assert ["id"] in columns and ["history_date"] in columns


def test_search_indexes_rebuilds_the_trigram_indexes_the_migrations_declare():
    """After an administrator creates pg_trgm where the migration could not, one command builds
    every trigram index the migrations declare (and is harmless when they exist)."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    from django.core.management import call_command

    def present() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
            return {row[0] for row in cursor.fetchall()}

    declared = {
        "subject_name_trgm",
        "objection_search_trgm",
        "repair_search_trgm",
        "commitment_search_trgm",
    }
    assert present() == declared
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX subject_name_trgm")
        cursor.execute("DROP INDEX repair_search_trgm")
    call_command("search_indexes", verbosity=0)
    assert present() == declared
    call_command("search_indexes", verbosity=0)
    assert present() == declared


def test_an_invalid_search_index_left_by_a_failed_build_is_built_again():
    """A concurrent build that failed leaves an invalid index (written, never read), which
    ``CREATE INDEX IF NOT EXISTS`` alone would keep: it is dropped and built again."""
    if connection.vendor != "postgresql":
        pytest.skip("index validity is PostgreSQL's")
    from django.core.management import call_command

    def valid() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = 'subject_name_trgm'"
            )
            return bool(cursor.fetchone()[0])

    with connection.cursor() as cursor:  # as a cancelled CREATE INDEX CONCURRENTLY leaves it
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
            "'subject_name_trgm'::regclass"
        )
    assert not valid()
    call_command("search_indexes", verbosity=0)
    assert valid()
