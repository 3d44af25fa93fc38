from django.db import migrations

from workflow_app.indexes import trigram_index


class Migration(migrations.Migration):
    # the index is built CONCURRENTLY: a table of millions keeps taking writes meanwhile
    atomic = False

    dependencies = [
        ("objections", "0005_fk_indexes_covered_by_composites"),
    ]

    operations = [
        # the case list's search for part of a reference (or title): processes/selectors.py
        trigram_index("objection_search_trgm", "objections_objection", ("reference",)),
    ]
