"""A case locked ahead of its transition (a task's completion) is read once: the next lock takes
that copy if it asks for no more relations, and only the next lock."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import CreditRecordFactory, SubjectFactory
from workflow_app.cases.transitions import case_prelock, cases_locked_here, lock_case
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def test_the_next_lock_takes_the_prelocked_copy_once():
    record = CreditRecordFactory(subject=SubjectFactory())
    with transaction.atomic(), cases_locked_here():
        held = case_prelock(CreditRecord, record.pk, related=("subject", "department"))
        with CaptureQueriesContext(connection) as q:
            assert lock_case(CreditRecord, record.pk, related=("subject",)) is held
        assert len(q.captured_queries) == 0
        again = lock_case(CreditRecord, record.pk)
        assert again is not held and again.pk == held.pk  # read again under the lock


def test_a_prelocked_copy_is_dropped_by_a_lock_of_another_row_or_wider_relations():
    a, b = CreditRecordFactory(), CreditRecordFactory()
    with transaction.atomic(), cases_locked_here():
        held = case_prelock(CreditRecord, a.pk)
        lock_case(CreditRecord, b.pk)
        assert lock_case(CreditRecord, a.pk) is not held
        held = case_prelock(CreditRecord, a.pk)
        assert lock_case(CreditRecord, a.pk, related=("subject",)) is not held


def test_outside_a_request_block_a_prelock_is_a_plain_lock():
    record = CreditRecordFactory()
    with transaction.atomic():
        held = case_prelock(CreditRecord, record.pk)
        assert lock_case(CreditRecord, record.pk) is not held
