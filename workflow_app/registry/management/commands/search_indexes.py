"""Create the trigram indexes the migrations declare (``workflow_app.indexes.trigram_index``)
where they are missing — after an administrator has created ``pg_trgm`` on a database whose
role could not. Idempotent; each index is built ``CONCURRENTLY``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from workflow_app.indexes import _create_trigram_index


class Command(BaseCommand):
    help = "Create the case and subject search indexes (pg_trgm) the migrations declare."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("Only PostgreSQL has trigram indexes; nothing to do.")
            return
        loader = MigrationLoader(connection)
        declared = [
            op.trigram_index
            for key in sorted(loader.applied_migrations)
            if key in loader.disk_migrations
            for op in loader.disk_migrations[key].operations
            if hasattr(op, "trigram_index")
        ]
        with connection.schema_editor(atomic=False) as editor:
            for name, table, columns in declared:
                if not _create_trigram_index(editor, name, table, columns):
                    raise CommandError(
                        "pg_trgm cannot be created by this role: an administrator runs "
                        "CREATE EXTENSION pg_trgm; in this database first."
                    )
                self.stdout.write(f"{name} on {table} ({', '.join(columns)})")
