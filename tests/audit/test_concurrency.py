"""Appends to different chains never wait on each other (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from workflow_app.audit.services import audit_append, verify_chains

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_other_chain_is_not_blocked_while_one_is_locked():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")
    audit_append(case_kind="objection", case_id=1, to_state="submitted")
    audit_append(case_kind="objection", case_id=2, to_state="submitted")
    holding = threading.Event()
    release = threading.Event()
    result = {}

    def hold_chain_one():
        with transaction.atomic():
            audit_append(
                case_kind="objection", case_id=1, from_state="submitted", to_state="accepted"
            )
            holding.set()
            release.wait(timeout=10)
        connections.close_all()

    t = threading.Thread(target=hold_chain_one)
    t.start()
    holding.wait(timeout=10)
    try:
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute("SET LOCAL lock_timeout = '2s'")
            audit_append(
                case_kind="objection", case_id=2, from_state="submitted", to_state="accepted"
            )
            result["other_chain"] = "ok"
    finally:
        release.set()
        t.join(timeout=10)
    assert result == {"other_chain": "ok"}
    assert verify_chains() == []


@pytest.mark.parametrize("new_chain", [False, True])
def test_concurrent_appends_to_a_new_chain_both_land_in_order(new_chain):
    """Two transactions start the same case's chain at once: the head's creation race is
    handled, and the entries get seq 1 and 2 with a valid link (``new_chain``: both take the
    one-statement first entry; the one that waited for the other's head appends after it)."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def append(state: str) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                audit_append(case_kind="objection", case_id=77, to_state=state, new_chain=new_chain)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(s,)) for s in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert errors == []
    from workflow_app.audit.models import TransitionLog

    assert sorted(
        TransitionLog.objects.filter(chain_key="objection:77").values_list("seq", flat=True)
    ) == [1, 2]
    assert verify_chains() == []
