from django.db import migrations

from workflow_app.indexes import trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("repair", "0004_fk_indexes_covered_by_composites"),
        ("registry", "0007_subject_name_search"),
    ]

    operations = [
        # the case list's search for part of a reference (or title): processes/selectors.py
        trigram_index("repair_search_trgm", "repair_repair", ("reference",)),
    ]
