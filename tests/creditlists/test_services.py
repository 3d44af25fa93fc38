"""Joining and leaving a list: the entry and its history, the subject's flag, the national
report with its due date, the audit entry; every refusal says why and changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from creditlists.models import EntryStatus, ListEntry, NationalReport, ReportAction
from creditlists.services import list_join, list_leave, list_report_national
from tests.creditlists.conftest import JOINED, join
from tests.factories import SubjectFactory
from workflow_app.api import Conflict, Forbidden, ServiceError
from workflow_app.audit.models import TransitionLog
from workflow_app.audit.services import verify_chains
from workflow_app.registry.models import Subject

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Everything a list service may write."""
    return {
        "entries": list(ListEntry.objects.order_by("pk").values()),
        "entry_history": ListEntry.history.count(),
        "reports": list(NationalReport.objects.order_by("pk").values()),
        "report_history": NationalReport.history.count(),
        "subjects": list(Subject.objects.order_by("pk").values("pk", "red_list", "black_list")),
        "subject_history": Subject.history.count(),
        "audit": TransitionLog.objects.count(),
    }


def test_join_records_entry_history_flag_report_and_audit(company, dept_samr):
    entry = join(company, dept_samr, list_type="black", joined_on=JOINED)

    entry.refresh_from_db()
    assert entry.status == EntryStatus.ACTIVE
    assert entry.department == dept_samr.department
    assert entry.joined_by == dept_samr
    assert entry.decision_reference == "深市监信〔2025〕1号"
    history = entry.history.get()
    assert history.history_user == dept_samr
    assert "joined the black list" in history.history_change_reason

    company.refresh_from_db()
    assert company.black_list is True and company.red_list is False
    flag_change = company.history.latest()
    assert flag_change.history_user == dept_samr
    assert flag_change.history_change_reason == "joined the black list"

    report = entry.national_reports.get()
    assert report.action == ReportAction.JOIN
    assert report.action_date == JOINED
    assert report.days == 10
    # Fri 6 June 2025 + 10 working days (weekends skipped) = Fri 20 June
    assert report.due_date == datetime.date(2025, 6, 20)
    assert report.basis["amount"] == 10
    assert report.reported_on is None

    log = TransitionLog.objects.get(chain_key=f"creditlist:{entry.pk}")
    assert (log.from_state, log.to_state, log.actor_id) == ("", "active", dept_samr.pk)
    assert log.reason == "因严重违法失信行为被列入。"
    assert log.data["msg"] == "creditlist.joined"
    assert verify_chains() == []


def test_leave_keeps_history_clears_flag_and_opens_a_second_report(company, dept_samr):
    entry = join(company, dept_samr, list_type="red")
    company.refresh_from_db()
    assert company.red_list is True

    list_leave(
        entry=entry,
        reason="信用修复完成，依法移出。",
        decision_reference="深市监信〔2025〕9号",
        left_on=datetime.date(2025, 9, 30),
        by=dept_samr,
    )

    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT
    assert entry.left_on == datetime.date(2025, 9, 30)
    assert entry.leave_reason == "信用修复完成，依法移出。"
    assert entry.leave_decision_reference == "深市监信〔2025〕9号"
    assert entry.left_by == dept_samr
    # the history keeps the entry as it was while listed
    states = list(entry.history.order_by("history_id").values_list("status", flat=True))
    assert states == ["active", "left"]
    company.refresh_from_db()
    assert company.red_list is False
    assert list(company.history.order_by("history_id").values_list("red_list", flat=True))[-2:] == [
        True,
        False,
    ]
    leave_report = entry.national_reports.get(action=ReportAction.LEAVE)
    # Tue 30 Sep 2025: 1–8 October are the National Day holidays, Sat 11 Oct is a make-up
    # working day: Sep 30 → Oct 9 (1), 10 (2), 11 (3), 13–17 (4–8), 20 (9), 21 (10)
    assert leave_report.due_date == datetime.date(2025, 10, 21)
    logs = list(
        TransitionLog.objects.filter(chain_key=f"creditlist:{entry.pk}")
        .order_by("seq")
        .values_list("from_state", "to_state")
    )
    assert logs == [("", "active"), ("active", "left")]
    assert verify_chains() == []


def test_subject_can_be_listed_again_after_leaving(company, dept_samr):
    first = join(company, dept_samr, list_type="black")
    list_leave(
        entry=first,
        reason="移出",
        decision_reference="文号2",
        left_on=datetime.date(2025, 7, 1),
        by=dept_samr,
    )
    second = join(company, dept_samr, list_type="black", joined_on=datetime.date(2025, 8, 1))
    assert second.pk != first.pk
    company.refresh_from_db()
    assert company.black_list is True


def test_national_report_is_recorded_once_with_audit(company, dept_samr):
    entry = join(company, dept_samr)
    report = entry.national_reports.get()

    list_report_national(
        report=report,
        reported_on=datetime.date(2025, 6, 20),
        national_reference="CN-2025-0001",
        by=dept_samr,
    )
    report.refresh_from_db()
    assert report.reported_on == datetime.date(2025, 6, 20)
    assert report.national_reference == "CN-2025-0001"
    assert report.history.latest().history_user == dept_samr
    log = TransitionLog.objects.filter(chain_key=f"creditlist:{entry.pk}").latest("seq")
    assert log.event == "note"
    assert log.data["params"]["on_time"] is True

    before = snapshot()
    with pytest.raises(Conflict, match="不能重复报送"):
        list_report_national(
            report=report,
            reported_on=datetime.date(2025, 6, 21),
            national_reference="CN-2025-0002",
            by=dept_samr,
        )
    assert snapshot() == before


# --- refusals -------------------------------------------------------------------------------


def _refused(exc_type, match, call) -> None:
    before = snapshot()
    with pytest.raises(exc_type, match=match):
        call()
    assert snapshot() == before


def test_natural_person_is_refused(dept_samr):
    person = SubjectFactory(natural=True)
    _refused(ServiceError, "自然人不能列入", lambda: join(person, dept_samr))


def test_already_active_on_that_list_is_refused(company, dept_samr, dept_emb):
    join(company, dept_samr, list_type="black")
    _refused(Conflict, "已在失信黑名单中", lambda: join(company, dept_emb, list_type="black"))


def test_red_list_while_on_black_list_is_refused(company, dept_samr):
    join(company, dept_samr, list_type="black")
    _refused(Conflict, "不能列入守信红名单", lambda: join(company, dept_samr, list_type="red"))


def test_leaving_an_entry_already_left_is_refused(company, dept_samr):
    entry = join(company, dept_samr)
    leave = {"reason": "移出", "decision_reference": "文号", "left_on": datetime.date(2025, 7, 1)}
    list_leave(entry=entry, by=dept_samr, **leave)
    stale = ListEntry.objects.get(pk=entry.pk)
    _refused(Conflict, "不能再次移出", lambda: list_leave(entry=stale, by=dept_samr, **leave))


def test_another_department_may_not_leave_or_report(company, dept_samr, dept_emb):
    entry = join(company, dept_samr)
    report = entry.national_reports.get()
    _refused(
        Forbidden,
        "由其他单位认定",
        lambda: list_leave(
            entry=entry,
            reason="移出",
            decision_reference="文号",
            left_on=datetime.date(2025, 7, 1),
            by=dept_emb,
        ),
    )
    _refused(
        Forbidden,
        "由其他单位认定",
        lambda: list_report_national(
            report=report,
            reported_on=datetime.date(2025, 6, 10),
            national_reference="X",
            by=dept_emb,
        ),
    )


def test_department_may_not_join_for_another_department(company, dept_samr, emb):
    _refused(
        Forbidden,
        "由其他单位认定",
        lambda: list_join(
            subject=company,
            list_type="black",
            department=emb,
            reason="理由",
            decision_reference="文号",
            joined_on=JOINED,
            by=dept_samr,
        ),
    )


def test_centre_and_applicants_may_not_act(company, centre_user, applicant, samr):
    for user in (centre_user, applicant):
        _refused(
            Forbidden,
            "只有作出认定的信源单位",
            lambda user=user: list_join(
                subject=company,
                list_type="red",
                department=samr,
                reason="理由",
                decision_reference="文号",
                joined_on=JOINED,
                by=user,
            ),
        )


def test_dates_in_the_future_are_refused(company, dept_samr):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    _refused(ServiceError, "不能晚于今天", lambda: join(company, dept_samr, joined_on=tomorrow))
    entry = join(company, dept_samr)
    _refused(
        ServiceError,
        "不能晚于今天",
        lambda: list_leave(
            entry=entry, reason="移出", decision_reference="文号", left_on=tomorrow, by=dept_samr
        ),
    )
    _refused(
        ServiceError,
        "不能晚于今天",
        lambda: list_report_national(
            report=entry.national_reports.get(),
            reported_on=tomorrow,
            national_reference="CN-1",
            by=dept_samr,
        ),
    )


def test_dates_before_the_decision_and_blank_texts_are_refused(company, dept_samr):
    entry = join(company, dept_samr)
    _refused(
        ServiceError,
        "不能早于 2025-06-06",
        lambda: list_leave(
            entry=entry,
            reason="移出",
            decision_reference="文号",
            left_on=datetime.date(2025, 6, 5),
            by=dept_samr,
        ),
    )
    _refused(
        ServiceError,
        "请填写移出理由",
        lambda: list_leave(
            entry=entry,
            reason="  ",
            decision_reference="文号",
            left_on=datetime.date(2025, 7, 1),
            by=dept_samr,
        ),
    )
    other = SubjectFactory()
    _refused(
        ServiceError,
        "请填写列入决定文号",
        lambda: join(other, dept_samr, reference=""),
    )
