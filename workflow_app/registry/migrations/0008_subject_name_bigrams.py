from django.db import migrations

from workflow_app.indexes import bigram_index, bigrams_function


class Migration(migrations.Migration):
    # the index is built CONCURRENTLY: a table of millions keeps taking writes meanwhile
    atomic = False

    dependencies = [("registry", "0007_subject_name_search")]

    operations = [
        # case lists and public lists search subjects by two characters of their name (华为)
        bigrams_function(),
        bigram_index("subject_name_bigrams", "registry_subject", "name"),
    ]
