"""Deadlines opened before ``Deadline.department`` existed learn their case's department: one
UPDATE per case kind (a correlated subquery), never a loop over rows."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Deadline = apps.get_model("workdays", "Deadline")
    Objection = apps.get_model("objections", "Objection")
    Repair = apps.get_model("repair", "Repair")
    Commitment = apps.get_model("commitments", "Commitment")
    for kind, model, path in (
        ("objection", Objection, "record__department_id"),
        ("repair", Repair, "record__department_id"),
        ("commitment", Commitment, "department_id"),
    ):
        department = model.objects.filter(pk=OuterRef("case_id")).values(path)[:1]
        Deadline.objects.filter(case_kind=kind, department__isnull=True).update(
            department_id=Subquery(department)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0003_export_log"),
        ("workdays", "0002_deadline_department"),
        ("objections", "0002_evidence_kernel"),
        ("repair", "0001_initial"),
        ("commitments", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
