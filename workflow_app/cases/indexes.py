"""Migration operations on the indexes of case tables.

PostgreSQL gets a second index (``varchar_pattern_ops``, named ``…_like``) beside every indexed
or unique text column, for ``LIKE 'prefix%'``. Case lists search references and names with
``icontains`` (``LIKE '%…%'``, which no b-tree serves) and statuses are compared with ``=``, so
the twins are never read — and each transition's UPDATE (its status changes: not a HOT update)
writes to them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_like_twins(table: str, columns: tuple[str, ...]) -> migrations.RunPython:
    def names(schema_editor: Any) -> list[tuple[str, str]]:
        if schema_editor.connection.vendor != "postgresql":
            return []
        return [(c, schema_editor._create_index_name(table, [c], suffix="_like")) for c in columns]

    def drop(apps: Any, schema_editor: Any) -> None:
        for _column, name in names(schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps: Any, schema_editor: Any) -> None:
        q = schema_editor.quote_name
        for column, name in names(schema_editor):
            schema_editor.execute(
                f"CREATE INDEX {q(name)} ON {q(table)} ({q(column)} varchar_pattern_ops)"
            )

    return migrations.RunPython(drop, create)
