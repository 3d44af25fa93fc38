"""Entries appended together (a sweep's reminders) are the entries appended one at a time:
the same hashes, the chains verify, the heads advanced once per chain."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from workflow_app.audit.models import AuditChain, TransitionLog
from workflow_app.audit.services import (
    audit_append,
    audit_append_many,
    audit_heads_locked,
    verify_chains,
)

pytestmark = pytest.mark.django_db

AT = timezone.make_aware(datetime.datetime(2026, 5, 6, 10, 0))


def _entries() -> list[dict]:
    return [
        {"case_kind": "objection", "case_id": 1, "event": "reminder", "data": {"n": 1}, "at": AT},
        {"case_kind": "objection", "case_id": 2, "event": "note", "reason": "甲", "at": AT},
        {"case_kind": "objection", "case_id": 1, "to_state": "x", "data": {"f": 1.5}, "at": AT},
        {"case_kind": "repair", "case_id": 1, "event": "escalation", "at": AT},
    ]


def test_appended_together_as_one_at_a_time(django_assert_max_num_queries, centre_user):
    audit_append(case_kind="objection", case_id=1, to_state="submitted", at=AT)  # an old chain
    audit_append(case_kind="objection", case_id=3, to_state="submitted", at=AT)
    entries = _entries()
    entries[1]["actor"] = centre_user
    # one at a time, in a transaction that is rolled back: the hashes to expect
    with transaction.atomic():
        expected = [audit_append(**e).hash for e in entries]
        transaction.set_rollback(True)
    # locked heads, new chains created, entries in one INSERT, heads in one UPDATE
    with django_assert_max_num_queries(6):
        rows = audit_append_many(entries)
    assert [r.hash for r in rows] == expected
    assert all(r.pk for r in rows)
    assert [r.seq for r in rows] == [2, 1, 3, 1]
    assert AuditChain.objects.get(key="objection:1").length == 3
    assert AuditChain.objects.get(key="objection:1").head_hash == rows[2].hash
    assert AuditChain.objects.get(key="objection:3").length == 1  # not touched
    assert verify_chains() == []
    assert TransitionLog.objects.count() == 6
    assert audit_append_many([]) == []


def test_heads_must_be_locked_by_the_caller_when_given():
    with transaction.atomic():
        heads = audit_heads_locked(["objection:1"])
        with pytest.raises(ValueError, match="not locked"):
            audit_append_many(_entries(), heads=heads)


def test_an_unknown_field_is_refused_before_anything_is_written():
    with pytest.raises(TypeError, match="colour"):
        audit_append(case_kind="objection", case_id=1, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="colour"):
        audit_append_many([{"case_kind": "objection", "case_id": 1, "colour": "red"}])
    assert not TransitionLog.objects.exists() and not AuditChain.objects.exists()
