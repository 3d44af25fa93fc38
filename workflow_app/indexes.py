"""Migration operations that drop indexes by name, leaving the fields and their constraints alone.

``AlterField(db_index=False)`` on a foreign key makes Django drop and re-add the foreign-key
constraint, which validates every row under an exclusive lock on both tables (measured: 0.8 s
with 1M notifications, every lookup of a user blocked meanwhile); on SQLite it rebuilds the
table. A migration keeps the ``AlterField`` in ``state_operations`` and runs one of these.

PostgreSQL also gives every indexed text column a ``varchar_pattern_ops`` twin (``…_like``) for
``LIKE 'prefix%'``; case lists search with ``icontains`` (no b-tree serves ``LIKE '%…%'``) and
statuses are compared with ``=``, so the twins are never read, yet each write maintains them.
Index names are computed as Django computes them when it creates the index.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# (table, column, text): a text column also has PostgreSQL's ``_like`` twin
IndexedColumn = tuple[str, str, bool]


def _like_name(schema_editor: Any, table: str, column: str) -> str:
    return str(schema_editor._create_index_name(table, [column], suffix="_like"))


def _create_like(schema_editor: Any, table: str, column: str) -> None:
    q = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {q(_like_name(schema_editor, table, column))} "
        f"ON {q(table)} ({q(column)} varchar_pattern_ops)"
    )


def drop_field_indexes(*columns: IndexedColumn) -> migrations.RunPython:
    """Drop the single-column index Django made for each column (and a text column's twin on
    PostgreSQL); reversing the migration creates them again."""

    def drop(apps: Any, schema_editor: Any) -> None:
        q = schema_editor.quote_name
        postgresql = schema_editor.connection.vendor == "postgresql"
        for table, column, text in columns:
            name = schema_editor._create_index_name(table, [column], suffix="")
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(name)}")
            if text and postgresql:
                like = _like_name(schema_editor, table, column)
                schema_editor.execute(f"DROP INDEX IF EXISTS {q(like)}")

    def create(apps: Any, schema_editor: Any) -> None:
        q = schema_editor.quote_name
        postgresql = schema_editor.connection.vendor == "postgresql"
        for table, column, text in columns:
            name = schema_editor._create_index_name(table, [column], suffix="")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} ({q(column)})"
            )
            if text and postgresql:
                _create_like(schema_editor, table, column)

    return migrations.RunPython(drop, create)


def drop_like_twins(table: str, columns: tuple[str, ...]) -> migrations.RunPython:
    """Drop PostgreSQL's ``_like`` twins of ``columns`` (their plain indexes stay)."""

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            like = _like_name(schema_editor, table, column)
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(like)}")

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            _create_like(schema_editor, table, column)

    return migrations.RunPython(drop, create)


def _create_trigram_index(
    schema_editor: Any, name: str, table: str, columns: tuple[str, ...]
) -> bool:
    """Create the index (and the extension) if it can be; False where ``pg_trgm`` cannot be
    created. Outside a transaction the index is built ``CONCURRENTLY`` (writes go on)."""
    from django.db import DatabaseError, transaction

    connection = schema_editor.connection
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return False
    q = schema_editor.quote_name
    parts = ", ".join(f"UPPER({q(c)}) gin_trgm_ops" for c in columns)
    _create_gin_index(schema_editor, name, table, parts)
    return True


def _create_gin_index(schema_editor: Any, name: str, table: str, key: str) -> None:
    """``CREATE INDEX … USING gin (key)`` unless a valid index of that name exists; outside a
    transaction ``CONCURRENTLY`` (writes go on). A concurrent build that failed (cancelled, a
    deadlock) leaves an invalid index behind — written on every insert, never read — which
    ``IF NOT EXISTS`` would keep for good: it is dropped and built again."""
    connection = schema_editor.connection
    q = schema_editor.quote_name
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND c.relnamespace = to_regnamespace(current_schema()) "
            "AND NOT i.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {q(name)}")
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {q(name)} ON {q(table)} USING gin ({key})"
    )


def trigram_index(name: str, table: str, columns: tuple[str, ...]) -> migrations.RunPython:
    """On PostgreSQL, a GIN trigram index (``pg_trgm``) on ``UPPER(column)`` for each column:
    what ``icontains`` compares (``UPPER(col) LIKE UPPER('%…%')``), which no b-tree serves —
    a search for part of a name then reads the index instead of every row. In a migration with
    ``atomic = False`` it is built ``CONCURRENTLY`` (a large table keeps taking writes). Where
    the extension cannot be created (a role without the right on a managed database), nothing
    is created and the searches read the rows as before; once an administrator has run
    ``CREATE EXTENSION pg_trgm``, ``python manage.py search_indexes`` creates every index
    declared this way. Elsewhere nothing."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            _create_trigram_index(schema_editor, name, table, columns)

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    operation = migrations.RunPython(create, drop)
    operation.trigram_index = (name, table, columns)  # type: ignore[attr-defined]  # search_indexes
    return operation


# the two-character pieces of a text, each once: the key of a bigram index (textsearch.py).
# Indexes are built from its results: a different body needs a new name (and its indexes built
# again), never a CREATE OR REPLACE of this one — the rows already indexed would not match.
BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION cw_bigrams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}')
  FROM generate_series(1, length($1) - 1) AS i
$$"""


def bigrams_function() -> migrations.RunPython:
    """On PostgreSQL, the function ``cw_bigrams(text)``: the text's two-character pieces (an
    empty array for a shorter text), what a bigram index keys each row by."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(BIGRAMS_FUNCTION)

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP FUNCTION IF EXISTS cw_bigrams(text)")

    return migrations.RunPython(create, drop)


def bigram_index(name: str, table: str, column: str) -> migrations.RunPython:
    """On PostgreSQL, a GIN index on ``cw_bigrams(UPPER(column))`` (``bigrams_function``
    first): what a search for two characters of the column's text reads
    (``workflow_app.textsearch.contains``), where a trigram index has nothing to look up. In a
    migration with ``atomic = False`` it is built ``CONCURRENTLY``. It needs no extension.
    Elsewhere nothing."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            key = f"cw_bigrams(UPPER({schema_editor.quote_name(column)}))"
            _create_gin_index(schema_editor, name, table, key)

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(create, drop)
