from django.db import migrations

from workflow_app.indexes import trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("objections", "0005_fk_indexes_covered_by_composites"),
        ("registry", "0007_subject_name_search"),
    ]

    operations = [
        # the case list's search for part of a reference (or title): processes/selectors.py
        trigram_index("objection_search_trgm", "objections_objection", ("reference",)),
    ]
