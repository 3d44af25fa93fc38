from django.db import migrations

from workflow_app.indexes import trigram_index


class Migration(migrations.Migration):
    # the index is built CONCURRENTLY: a table of millions keeps taking writes meanwhile
    atomic = False

    dependencies = [("registry", "0006_history_indexed_by_case")]

    operations = [
        # case lists and public lists search subjects by part of their name or shown code
        trigram_index("subject_name_trgm", "registry_subject", ("name", "identifier_display")),
    ]
