"""Synchronisation rows carry their record's department; the undelivered rows' index becomes
``(due_at, id)`` with the department. Not atomic, so that a change log of millions keeps taking
writes: the column is added at once (no default, no rewrite), the rows not yet delivered are
filled in by id, 5,000 to a statement, each committed, and the index is built ``CONCURRENTLY``
before the old one is dropped the same way (PostgreSQL). Rows written meanwhile by processes
still running the previous code have no department until they are delivered; the dashboard
finds a department's such rows through their record (``oversight.selectors._sync_queryset``)."""

import django.db.models.deletion
from django.db import migrations, models

CHUNK = 5000

NEW = models.Index(
    condition=models.Q(("status", "delivered"), _negated=True),
    fields=["due_at", "id"],
    include=("status", "department", "record_id"),
    name="sync_undelivered_due",
)
OLD = models.Index(
    condition=models.Q(("status", "delivered"), _negated=True),
    fields=["due_at"],
    include=("status", "record_id"),
    name="sync_undelivered",
)


def fill_departments(apps, schema_editor):
    """The rows the dashboard reads (not yet delivered) take their record's department; the
    delivered log is left as it is (nothing reads its department)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM sync_syncevent WHERE status <> 'delivered'"
            " AND record_id IS NOT NULL AND department_id IS NULL ORDER BY id"
        )
        ids = [row[0] for row in cursor.fetchall()]
        step = CHUNK if schema_editor.connection.vendor == "postgresql" else 900
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            cursor.execute(
                "UPDATE sync_syncevent SET department_id = (SELECT r.department_id FROM"
                " registry_creditrecord r WHERE r.id = sync_syncevent.record_id)"
                f" WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )


def _swap(add, remove):
    """Build ``add``, then drop ``remove`` — ``CONCURRENTLY`` on PostgreSQL."""

    def run(apps, schema_editor):
        model = apps.get_model("sync", "SyncEvent")
        postgresql = schema_editor.connection.vendor == "postgresql"
        concurrently = {"concurrently": True} if postgresql else {}
        schema_editor.add_index(model, add, **concurrently)
        schema_editor.remove_index(model, remove, **concurrently)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registry", "0006_history_indexed_by_case"),
        ("sync", "0004_payload_encoder"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncevent",
            name="department",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.department",
            ),
        ),
        migrations.RunPython(fill_departments, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="syncevent", index=NEW),
                migrations.RemoveIndex(model_name="syncevent", name="sync_undelivered"),
            ],
            database_operations=[migrations.RunPython(_swap(NEW, OLD), _swap(OLD, NEW))],
        ),
    ]
