"""The PostgreSQL backend's timestamp loader (workflow_app/postgresql/base.py): psycopg's own
loader where the session's zone is UTC, with Django's values."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from tests.factories import CreditRecordFactory
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db

TIMESTAMPTZ_OID = 1184
TEXT = 0

# what a timestamptz can be, and its text in other zones: PostgreSQL answers in the session's
EXPRESSIONS = [
    "now()",
    "'2026-12-07 23:15:04.123456+00'",
    "'2026-01-01 12:00:00+08'",
    "'2026-06-30 23:59:59.999999-09:30'",
    "'2024-02-29 00:00:00+14'",
    "'0001-01-01 00:00:00+00'",
    "'9999-12-31 23:59:59.999999+00'",
    "'1969-12-31 23:59:59.5+00'",
    "'infinity'",
    "'-infinity'",
]


def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the loader is PostgreSQL's")


def _load(loader_class: type, expression: str) -> object:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({expression})::timestamptz::text")
        text = cursor.fetchone()[0]
        loader = loader_class(TIMESTAMPTZ_OID, cursor.cursor)
    try:
        return loader.load(text.encode())
    except Exception as e:  # psycopg's DataError: what both loaders say of 'infinity'
        return type(e)


def test_the_connection_reads_timestamps_with_psycopgs_loader():
    _postgresql()
    from workflow_app.postgresql.base import UtcTimestamptzLoader

    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, TEXT) is (
        UtcTimestamptzLoader
    )
    with connection.cursor() as cursor:
        # Django's cursor keeps the connection's loader (it compares the zones)
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, TEXT) is UtcTimestamptzLoader


def test_the_values_are_djangos():
    _postgresql()
    from workflow_app.postgresql.base import UtcTimestamptzLoader

    class DjangoUtcLoader(BaseTzLoader):
        timezone = datetime.UTC

    for expression in EXPRESSIONS:
        ours, djangos = _load(UtcTimestamptzLoader, expression), _load(DjangoUtcLoader, expression)
        assert ours == djangos, expression
        if isinstance(ours, datetime.datetime):
            assert ours.tzinfo is datetime.UTC, expression


def test_a_row_written_is_read_back_as_written(company, samr):
    _postgresql()
    written = datetime.datetime(2026, 3, 1, 4, 5, 6, 789012, tzinfo=datetime.UTC)
    record = CreditRecordFactory(subject=company, department=samr)
    CreditRecord.objects.filter(pk=record.pk).update(updated_at=written)
    read = CreditRecord.objects.values_list("updated_at", flat=True).get(pk=record.pk)
    assert read == written and read.tzinfo is datetime.UTC
    # a value written in another zone is the same instant, read in UTC
    shanghai = written.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    CreditRecord.objects.filter(pk=record.pk).update(updated_at=shanghai)
    assert CreditRecord.objects.get(pk=record.pk).updated_at == written


def test_a_database_in_another_zone_keeps_djangos_loader():
    _postgresql()
    from workflow_app.postgresql.base import DatabaseWrapper, UtcTimestamptzLoader

    other = DatabaseWrapper({**connection.settings_dict, "TIME_ZONE": "Asia/Shanghai"})
    loader = other.get_connection_params()["context"].adapters.get_loader(TIMESTAMPTZ_OID, TEXT)
    assert loader is not UtcTimestamptzLoader
    assert issubclass(loader, BaseTzLoader) and str(loader.timezone) == "Asia/Shanghai"
    # and Django's template, shared by connections of a zone, was not changed by ours
    utc = DatabaseWrapper(dict(connection.settings_dict)).get_connection_params()["context"]
    assert utc.adapters.get_loader(TIMESTAMPTZ_OID, TEXT) is UtcTimestamptzLoader
    from django.db.backends.postgresql.psycopg_any import get_adapters_template

    template = get_adapters_template(True, datetime.UTC)
    assert template.get_loader(TIMESTAMPTZ_OID, TEXT) is not UtcTimestamptzLoader
