"""The database going away (a restart, a failover, a killed connection) is answered 503 with
Retry-After and a message, never a traceback; the next request reconnects and succeeds."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import skip_or_fail
from workflow_app.postgresql.base import IDLE_CHECK_SECONDS


def _broken_cursor():
    return mock.patch.object(
        connection, "cursor", side_effect=OperationalError("server closed the connection")
    )


@pytest.mark.django_db
def test_api_answers_503_with_retry_after_when_the_database_fails(applicant):
    api = APIClient()
    api.force_authenticate(user=applicant)
    with _broken_cursor():
        r = api.get("/api/v1/objections/")
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    assert int(r["Retry-After"]) > 0 and "重试" in r.json()["message"]


@pytest.mark.django_db
def test_pages_answer_503_with_a_page_not_a_traceback(company):
    web = Client(raise_request_exception=False)
    with _broken_cursor():
        r = web.get(f"/report/{company.identifier}/")
    body = r.content.decode()
    assert r.status_code == 503 and 'id="error-503"' in body and "Traceback" not in body
    assert int(r["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_a_killed_postgresql_connection_gives_503_then_recovers(company):
    """What a PostgreSQL restart does to a web worker: its connection is terminated."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL)")
    import psycopg

    web = Client(raise_request_exception=False)
    api = APIClient(raise_request_exception=False)
    path = f"/api/v1/subjects/{company.identifier}/report/"
    assert api.get(path).status_code == 200
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    r = api.get(path)
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    page = web.get(f"/report/{company.identifier}/")
    assert page.status_code == 503 and 'id="error-503"' in page.content.decode()
    # what Django does at the start of every request: drop the unusable connection, reconnect
    close_old_connections()
    assert api.get(path).status_code == 200


def _terminate(pid: int) -> None:
    import psycopg

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # the backend ends a moment later: its goodbye is on the socket then
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                break
            time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_is_checked_without_a_round_trip(company):
    """Between requests a healthy connection is kept without a ``SELECT 1``; one the server
    ended while it was idle (what a restart does) is replaced before the request's first query,
    so that request succeeds (workflow_app/postgresql)."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL)")
    api = APIClient()
    path = f"/api/v1/subjects/{company.identifier}/report/"
    assert api.get(path).status_code == 200
    assert connection.health_check_enabled
    first = connection.connection
    try:
        _check_between_requests(api, path, first)
    finally:
        connection.close()  # whatever happened, the next test gets a fresh connection


def _check_between_requests(api: APIClient, path: str, first) -> None:
    with mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as checked:
        close_old_connections()  # a request ends and the next begins
        assert api.get(path).status_code == 200
        assert connection.connection is first and checked.call_count == 0

        _terminate(first.info.backend_pid)
        close_old_connections()
        assert api.get(path).status_code == 200
        assert checked.call_count == 1  # the server spoke: the round-trip check ran, and failed
        assert connection.connection is not first and first.closed

        # idle for longer than IDLE_CHECK_SECONDS: checked with the round trip (a host gone
        # without closing the connection leaves nothing to read)
        second = connection.connection
        connection._last_used -= IDLE_CHECK_SECONDS + 1
        close_old_connections()
        assert api.get(path).status_code == 200
        assert checked.call_count == 2 and connection.connection is second
