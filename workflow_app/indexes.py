"""Dropping the index Django made for a field, without touching the field's constraint.

``AlterField(db_index=False)`` on a foreign key makes Django drop and re-add the foreign-key
constraint, which validates every row under an exclusive lock on both tables (measured: 0.8 s
with 1M notifications, every lookup of a user blocked meanwhile); on SQLite it rebuilds the
table. A migration keeps the ``AlterField`` in ``state_operations`` and runs this instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import migrations

# (table, column, text): text columns also have PostgreSQL's ``varchar_pattern_ops`` twin
IndexedColumn = tuple[str, str, bool]


def _names(schema_editor: Any, columns: tuple[IndexedColumn, ...]) -> Iterator[tuple[str, ...]]:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for table, column, text in columns:
        # the name Django gave the index, computed the way it computes it
        name = schema_editor._create_index_name(table, [column], suffix="")
        yield table, column, name, "yes" if text and postgresql else ""


def drop_field_indexes(*columns: IndexedColumn) -> migrations.RunPython:
    """A migration operation dropping the single-column indexes of ``columns`` (and re-creating
    them when the migration is reversed)."""

    def drop(apps: Any, schema_editor: Any) -> None:
        quote = schema_editor.quote_name
        for _table, _column, name, like in _names(schema_editor, columns):
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
            if like:
                schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name + '_like')}")

    def create(apps: Any, schema_editor: Any) -> None:
        quote = schema_editor.quote_name
        for table, column, name, like in _names(schema_editor, columns):
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
            )
            if like:
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(name + '_like')} ON {quote(table)} "
                    f"({quote(column)} varchar_pattern_ops)"
                )

    return migrations.RunPython(drop, create)
