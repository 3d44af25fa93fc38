"""workflow_app/textsearch.py: two characters of a name are found through the names' bigram
index on PostgreSQL, with the same result as ``icontains`` everywhere."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import SubjectFactory
from workflow_app.registry.models import Subject
from workflow_app.textsearch import contains

pytestmark = pytest.mark.django_db

NAMES = ["华为技术有限公司", "深圳市腾讯计算机", "Huawei Device", "华", "为华", "abc 华为"]


@pytest.fixture
def subjects():
    return [SubjectFactory(name=name) for name in NAMES]


@pytest.mark.parametrize("q", ["华为", "华", "腾讯计", "HU", "hu", "ei", "为华", "不在", "a"])
def test_contains_finds_what_icontains_finds(subjects, q):
    found = set(
        Subject.objects.filter(contains("name", q, bigram_index=True)).values_list(
            "name", flat=True
        )
    )
    assert found == {n for n in NAMES if q.upper() in n.upper()}


def test_the_bigrams_of_a_text():
    if connection.vendor != "postgresql":
        pytest.skip("cw_bigrams is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT cw_bigrams('华为华为'), cw_bigrams('华'), cw_bigrams('')")
        pieces, one, empty = cursor.fetchone()
    assert sorted(pieces) == ["为华", "华为"] and one == [] and empty == []


def test_two_characters_are_looked_up_in_the_bigram_index(subjects):
    if connection.vendor != "postgresql":
        pytest.skip("the bigram index is PostgreSQL's")
    qs = Subject.objects.filter(contains("name", "华为", bigram_index=True)).values("pk")
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "subject_name_bigrams" in plan, plan
    # other lengths keep to icontains (three or more: the trigram index)
    assert "cw_bigrams" not in str(
        Subject.objects.filter(contains("name", "华为技", bigram_index=True)).query
    )
    assert "cw_bigrams" not in str(Subject.objects.filter(contains("name", "华为")).query)


def test_a_search_is_planned_for_its_text():
    """Prepared statements may get one generic plan for every value; a search's statements are
    planned for the text searched (workflow_app/textsearch.py), and only inside the block."""
    from django.db import transaction

    from workflow_app.textsearch import planned_for_the_text

    if connection.vendor != "postgresql":
        with planned_for_the_text("华为"):
            assert Subject.objects.count() == 0
        pytest.skip("plan_cache_mode is PostgreSQL's")

    def mode() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    depth = len(connection.savepoint_ids)
    with planned_for_the_text("华为"):
        assert mode() == "force_custom_plan" and len(connection.savepoint_ids) == depth + 1
    with planned_for_the_text(""):
        assert mode() == "auto" and len(connection.savepoint_ids) == depth
    with transaction.atomic():  # a block's SET LOCAL ends with the block
        with planned_for_the_text("华为"):
            pass
        assert mode() == "auto"
