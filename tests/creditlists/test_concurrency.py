"""Two caseworkers act on the same subject or report at once: exactly one wins, the other is
told why, and the rows, flags and audit chain stay consistent (PostgreSQL row locks)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections

from creditlists.models import ListEntry, NationalReport
from creditlists.services import list_join, list_report_national
from workflow_app.api import Conflict
from workflow_app.audit.services import verify_chains

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=10)
            result: object = call()
        except BaseException as exc:  # noqa: BLE001 - reported below
            result = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_concurrent_joins_of_one_subject_list_it_once(company, dept_samr, dept_emb):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")

    def joiner(user):
        return lambda: list_join(
            subject=company,
            list_type="black",
            department=user.department,
            reason="理由",
            decision_reference=f"{user.username}-1",
            joined_on=datetime.date(2025, 6, 6),
            by=user,
        )

    outcomes = _race([joiner(dept_samr), joiner(dept_emb)])
    won = [o for o in outcomes if isinstance(o, ListEntry)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "不能重复列入" in lost[0].message
    assert ListEntry.objects.count() == 1
    assert NationalReport.objects.count() == 1
    company.refresh_from_db()
    assert company.black_list is True
    assert verify_chains() == []


def test_concurrent_reports_are_recorded_once(company, dept_samr):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is tested on PostgreSQL")
    entry = list_join(
        subject=company,
        list_type="black",
        department=dept_samr.department,
        reason="理由",
        decision_reference="文号",
        joined_on=datetime.date(2025, 6, 6),
        by=dept_samr,
    )
    report = entry.national_reports.get()

    def reporter(ref):
        return lambda: list_report_national(
            report=NationalReport.objects.get(pk=report.pk),
            reported_on=datetime.date(2025, 6, 10),
            national_reference=ref,
            by=dept_samr,
        )

    outcomes = _race([reporter("CN-A"), reporter("CN-B")])
    assert sum(isinstance(o, NationalReport) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    report.refresh_from_db()
    assert report.national_reference in ("CN-A", "CN-B")
    assert report.history.filter(reported_on__isnull=False).count() == 1
    assert verify_chains() == []
