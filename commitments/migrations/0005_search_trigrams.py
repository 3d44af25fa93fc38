from django.db import migrations

from workflow_app.indexes import trigram_index


class Migration(migrations.Migration):
    # the index is built CONCURRENTLY: a table of millions keeps taking writes meanwhile
    atomic = False

    dependencies = [("commitments", "0004_signed_index")]

    operations = [
        # the case list's search for part of a reference (or title): processes/selectors.py
        trigram_index(
            "commitment_search_trgm", "commitments_commitment", ("reference", "matter_title")
        ),
    ]
