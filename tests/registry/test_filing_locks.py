"""What a filing locks (PostgreSQL row locks): the record it is about — and for a repair its
subject — never the department's row, which every filing on that department's records would
otherwise wait for; a commitment signing locks its subject against list changes only, so one
subject's signings go on side by side."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from tests.factories import CreditRecordFactory, SubjectFactory
from workflow_app.registry.models import Department, Subject
from workflow_app.registry.services import record_lock_for_filing, subject_lock_shared

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _holding(lock: Callable[[], Any]):
    """Run ``lock`` in another connection's transaction and keep that transaction open until
    the returned ``release`` is called."""
    taken, release, failed = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                lock()
                taken.set()
                release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
            taken.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(timeout=10) and not failed, failed

    def done():
        release.set()
        thread.join(timeout=30)
        assert not failed, failed

    return done


def _free(query: Callable[[], Any]) -> bool:
    """Whether ``query`` (a locking read) gets its rows at once, or would wait."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            query()
        return True
    except OperationalError:
        return False


@pytest.fixture
def _postgres():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")


def test_an_objection_filing_locks_its_record_only(_postgres, samr):
    record = CreditRecordFactory(department=samr)
    other = CreditRecordFactory(department=samr)  # another subject's record, same department
    release = _holding(lambda: record_lock_for_filing(record.pk))
    try:
        assert not _free(lambda: record_lock_for_filing(record.pk))  # the same record waits
        assert _free(lambda: record_lock_for_filing(other.pk))  # another filing goes on
        assert _free(lambda: Department.objects.select_for_update().get(pk=samr.pk))
        assert _free(lambda: Subject.objects.select_for_update().get(pk=record.subject_id))
    finally:
        release()


def test_a_repair_filing_locks_its_record_and_subject_never_the_department(_postgres, samr):
    subject = SubjectFactory()
    record = CreditRecordFactory(department=samr, subject=subject)
    sibling = CreditRecordFactory(department=samr, subject=subject)
    stranger = CreditRecordFactory(department=samr)
    release = _holding(lambda: record_lock_for_filing(record.pk, subject=True))
    try:
        # the subject's other repair filing waits (its rules count the subject's repairs)
        assert not _free(lambda: record_lock_for_filing(sibling.pk, subject=True))
        assert _free(lambda: record_lock_for_filing(stranger.pk, subject=True))
        assert _free(lambda: Department.objects.select_for_update().get(pk=samr.pk))
    finally:
        release()


def test_a_filing_on_no_record_finds_none():
    with transaction.atomic():
        assert record_lock_for_filing(0) is None
        assert record_lock_for_filing("abc") is None
        assert record_lock_for_filing(2**70) is None
        assert record_lock_for_filing(None, subject=True) is None


def test_signings_of_one_subject_share_its_lock_and_a_list_change_waits(_postgres):
    subject = SubjectFactory()
    release = _holding(lambda: subject_lock_shared(subject.pk))
    try:
        assert _free(lambda: subject_lock_shared(subject.pk))  # another signing goes on
        # a list change (creditlists locks the subject FOR UPDATE) waits for the signing
        assert not _free(lambda: Subject.objects.select_for_update().get(pk=subject.pk))
    finally:
        release()
    release = _holding(lambda: Subject.objects.select_for_update().get(pk=subject.pk))
    try:  # and a signing waits for a list change under way
        assert not _free(lambda: subject_lock_shared(subject.pk))
    finally:
        release()
    with pytest.raises(Subject.DoesNotExist), transaction.atomic():
        subject_lock_shared(0)
