"""Credit repair end to end over HTTP, through both queues (SPEC §6, §12)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notifications.models import Notification
from processes.models import CaseTask
from processes.sweeps import run_all
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory
from tests.processes.helpers import (
    client_for,
    complete,
    deliver_outbox,
    detail,
    file_repair,
    open_task,
)
from workflow_app.audit.services import verify_chains
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(company, samr):
    return CreditRecordFactory(
        subject=company, department=samr, decision_date=datetime.date(2025, 6, 3)
    )


def _file(applicant, record):
    return file_repair(applicant, record)["id"]


def _report_ids(company) -> set[int]:
    r = client_for(None).get(f"/api/v1/subjects/{company.identifier}/report/")
    assert r.status_code == 200
    return {row["id"] for row in r.json()["records"]}


def _approve(applicant, record, centre_user, dept_samr) -> int:
    rid = _file(applicant, record)
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    decision = open_task(rid, "repair_decision")
    # claimed first, as from the queue (completing an unclaimed task claims it silently)
    assert client_for(dept_samr).post(f"/api/v1/tasks/{decision.pk}/claim/").status_code == 200
    complete(dept_samr, decision, decision="approve", reason="已整改")
    return rid


def test_filed_case_shows_deadlines_and_queue(applicant, record, centre_user):
    body = file_repair(applicant, record)
    assert body["status"] == "submitted" and body["reference"].startswith("XF")
    kinds = {d["kind"] for d in body["deadlines"]}
    assert kinds == {"repair_intake", "repair_total"}
    total = next(d for d in body["deadlines"] if d["kind"] == "repair_total")
    assert total["amount"] == 10 and total["basis"]
    r = client_for(centre_user).get("/api/v1/tasks/?kind=repair")
    rows = r.json()["results"]
    assert [t["step"] for t in rows] == ["repair_intake"] and rows[0]["kind"] == "repair"


def test_approve_end_to_end(applicant, company, record, centre_user, dept_samr, supervisor):
    assert record.pk in _report_ids(company)
    rid = _approve(applicant, record, centre_user, dept_samr)
    case = detail(applicant, rid, "repairs")
    assert case["status"] == "approved"
    assert case["verification_code"]
    assert case["commitment"]["status"] == "active"
    # the record is gone from the public report, its history kept
    record.refresh_from_db()
    assert record.status == "repaired"
    assert record.pk not in _report_ids(company)
    assert record.history.count() >= 2
    # the decision verifies as in force
    v = client_for(None).get(f"/api/v1/verify/{case['verification_code']}/").json()
    assert v["in_force"] is True and v["decision"] == "approved"
    assert v["decision_label"] == "准予信用修复" and record.title in v["summary"]
    # the repair commitment is readable by the owner and by staff, not by others
    cid = case["commitment"]["id"]
    c = client_for(applicant).get(f"/api/v1/commitments/{cid}/").json()
    assert c["kind"] == "repair" and c["status"] == "active" and c["repair"] == rid
    assert c["text"] == "本单位承诺不再发生同类失信行为。"
    assert client_for(supervisor).get(f"/api/v1/commitments/{cid}/").status_code == 200
    # the applicant's timeline carries no queue handling; staff see it
    owner_events = {e["event"] for e in case["timeline"]}
    assert "assignment" not in owner_events
    staff_events = {e["event"] for e in detail(centre_user, rid, "repairs")["timeline"]}
    assert "assignment" in staff_events
    assert all(e["message"] for e in case["timeline"])
    deliver_outbox()
    assert Notification.objects.filter(recipient=applicant, event="repair.approved").exists()
    assert not verify_chains()


def test_reject_at_intake(applicant, record, centre_user):
    rid = _file(applicant, record)
    complete(centre_user, open_task(rid, "repair_intake"), expect=400, decision="reject")
    complete(centre_user, open_task(rid, "repair_intake"), decision="reject", reason="材料不全")
    case = detail(applicant, rid, "repairs")
    assert case["status"] == "rejected" and case["decision_reason"] == "材料不全"
    assert not CaseTask.objects.filter(case_kind="repair", case_id=rid, status="NEW").exclude(
        queue=""
    )


def test_reject_at_decision(applicant, record, centre_user, dept_samr):
    rid = _file(applicant, record)
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    complete(dept_samr, open_task(rid, "repair_decision"), decision="reject", reason="整改未完成")
    assert detail(applicant, rid, "repairs")["status"] == "rejected"
    record.refresh_from_db()
    assert record.status == "published"


def test_supplement_loop_returns_to_the_step_that_asked(applicant, record, centre_user, dept_samr):
    rid = _file(applicant, record)
    complete(
        centre_user,
        open_task(rid, "repair_intake"),
        decision="request_supplement",
        reason="请补充缴款凭证",
    )
    assert detail(applicant, rid, "repairs")["status"] == "needs_supplement"
    r = client_for(applicant).post(
        f"/api/v1/repairs/{rid}/supplement/", {"text": "已补充"}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    # the department asks too: the supplement brings the case back to the decision
    complete(
        dept_samr,
        open_task(rid, "repair_decision"),
        decision="request_supplement",
        reason="请补充整改报告",
    )
    r = client_for(applicant).post(
        f"/api/v1/repairs/{rid}/supplement/", {"text": "整改报告见附件"}, format="json"
    )
    assert r.json()["status"] == "under_review"
    complete(dept_samr, open_task(rid, "repair_decision"), decision="approve")
    assert detail(applicant, rid, "repairs")["status"] == "approved"


def test_unanswered_supplement_lapses_to_rejected(applicant, record, centre_user):
    rid = _file(applicant, record)
    complete(
        centre_user, open_task(rid, "repair_intake"), decision="request_supplement", reason="缺材料"
    )
    later = timezone.now() + datetime.timedelta(days=30)
    result = run_all(now=later)
    assert result["repair_lapses"] == 1
    case = detail(applicant, rid, "repairs")
    assert case["status"] == "rejected"
    assert any("补正期限届满" in e["message"] for e in case["timeline"])
    assert run_all(now=later)["repair_lapses"] == 0
    assert not CaseTask.objects.filter(case_kind="repair", case_id=rid, status="NEW").exists()


def test_withdraw(applicant, record, centre_user):
    rid = _file(applicant, record)
    r = client_for(applicant).post(f"/api/v1/repairs/{rid}/withdraw/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = client_for(applicant).post(f"/api/v1/repairs/{rid}/withdraw/", {}, format="json")
    assert r.status_code == 409


def test_revoke_puts_the_record_back(applicant, company, samr, centre_user, dept_samr, supervisor):
    from workflow_app.workdays.calendar import months_later

    decided = timezone.localdate() - datetime.timedelta(days=120)
    record = CreditRecordFactory(subject=company, department=samr, decision_date=decided)
    rid = _approve(applicant, record, centre_user, dept_samr)
    code = detail(applicant, rid, "repairs")["verification_code"]
    # only a supervisor revokes, and only with a reason
    r = client_for(centre_user).post(
        f"/api/v1/repairs/{rid}/revoke/", {"reason": "x"}, format="json"
    )
    assert r.status_code == 403
    r = client_for(supervisor).post(f"/api/v1/repairs/{rid}/revoke/", {}, format="json")
    assert r.status_code == 400
    r = client_for(supervisor).post(
        f"/api/v1/repairs/{rid}/revoke/", {"reason": "提供虚假缴款凭证"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "revoked"
    record.refresh_from_db()
    assert record.status == "published"
    assert record.publicity_end == months_later(decided, 12)  # general: 1 year from decision
    assert record.pk in _report_ids(company)
    v = client_for(None).get(f"/api/v1/verify/{code}/").json()
    assert v["in_force"] is False and v["revocation_reason"] == "提供虚假缴款凭证"
    assert v["revoked_at"]
    deliver_outbox()
    assert Notification.objects.filter(recipient=applicant, event="repair.revoked").exists()
    # a second revocation is a conflict
    r = client_for(supervisor).post(
        f"/api/v1/repairs/{rid}/revoke/", {"reason": "again"}, format="json"
    )
    assert r.status_code == 409


def test_another_department_cannot_see_or_decide(applicant, record, centre_user, dept_emb):
    rid = _file(applicant, record)
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    task = open_task(rid, "repair_decision")
    complete(dept_emb, task, expect=404, decision="approve")
    assert client_for(dept_emb).get(f"/api/v1/repairs/{rid}/").status_code == 404
    assert all(
        t["kind"] != "repair" for t in client_for(dept_emb).get("/api/v1/tasks/").json()["results"]
    )


def test_supervisor_sees_but_does_not_decide_a_department_step(
    applicant, record, centre_user, supervisor
):
    rid = _file(applicant, record)
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    task = open_task(rid, "repair_decision")
    r = client_for(supervisor).post(f"/api/v1/tasks/{task.pk}/claim/", {}, format="json")
    assert r.status_code == 403 and "分派" in r.json()["message"]
    complete(supervisor, task, expect=403, decision="approve")


def test_other_applicant_refused(applicant, other_applicant, record):
    rid = _file(applicant, record)
    assert client_for(other_applicant).get(f"/api/v1/repairs/{rid}/").status_code == 404
    r = client_for(other_applicant).post(f"/api/v1/repairs/{rid}/withdraw/", {}, format="json")
    assert r.status_code == 404


def test_english_caseworker_writes_codes_not_english_sentences(
    applicant, record, centre_user, dept_samr
):
    """An English-speaking caseworker's decision reads in Chinese on the applicant's timeline."""
    from django.utils import translation

    rid = _file(applicant, record)
    with translation.override("en"):
        complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    with translation.override("zh-hans"):
        timeline = detail(applicant, rid, "repairs")["timeline"]
    routed = next(e for e in timeline if e["to"] == "under_review")
    assert routed["message"].startswith("转") and "市场监督管理局" in routed["message"]


def test_dishonesty_record_push_sends_the_repair_notice(company, samr, applicant):
    dept_user = UserFactory(username="pusher", role="department", department=samr)
    item = {
        "external_id": "PEN-2026-1",
        "subject": {"kind": "legal_person", "identifier": company.identifier, "name": company.name},
        "category": "penalty",
        "nature": "dishonesty",
        "severity": "general",
        "title": "行政处罚决定书 深市监罚〔2026〕1号",
        "content": "罚款5000元",
        "decision_date": "2026-11-30",
        "publicity_end": "2027-11-30",
    }
    r = client_for(dept_user).post("/api/v1/records/", [item], format="json")
    assert r.status_code in (200, 201), r.content
    deliver_outbox()
    n = Notification.objects.get(recipient=applicant, event="record.dishonesty_notice")
    assert "2027-03-01" in n.body and "信用修复" in n.body
    # the link goes to the company's report (an imported record carries only its subject's id)
    assert n.url == f"/report/{company.identifier}/"
    assert CreditRecord.objects.filter(external_id="PEN-2026-1").exists()


def test_a_push_notifies_every_subject_in_a_few_statements(
    samr, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """Notices for a batch of dishonesty records whose subjects have accounts: the outbox rows
    of the whole batch together, not two statements per record (5,000 such records took 4.5 s
    of a 5,000-item push)."""
    from workflow_app.registry.services import record_import_batch

    dept_user = UserFactory(username="pusher", role="department", department=samr)
    subjects = [SubjectFactory() for _ in range(30)]
    for i, subject in enumerate(subjects):
        UserFactory(username=f"firm{i}", role="applicant", subject=subject)
    items = [
        {
            "external_id": f"PEN-{i}",
            "subject": {"kind": "legal_person", "identifier": s.identifier, "name": s.name},
            "category": "penalty",
            "nature": "dishonesty",
            "severity": "general",
            "title": f"行政处罚决定书 第{i}号",
            "content": "罚款5000元",
            "decision_date": "2026-11-30",
        }
        for i, s in enumerate(subjects * 2)
    ]
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(16):
        record_import_batch(department=samr, items=items, by=dept_user)
    assert Notification.objects.filter(event="record.dishonesty_notice").count() == 60
    assert set(
        Notification.objects.filter(recipient__username="firm3").values_list("case_id", flat=True)
    ) == set(CreditRecord.objects.filter(subject=subjects[3]).values_list("pk", flat=True))


def test_revoke_after_the_maximum_period_expires_the_record(
    applicant, record, centre_user, dept_samr, supervisor
):
    """Decided 2025-06-03, general: publicity could last until 2026-06-03, which has passed."""
    rid = _approve(applicant, record, centre_user, dept_samr)
    r = client_for(supervisor).post(
        f"/api/v1/repairs/{rid}/revoke/", {"reason": "违背修复承诺"}, format="json"
    )
    assert r.status_code == 200
    record.refresh_from_db()
    assert record.status == "expired" and record.publicity_end == datetime.date(2026, 6, 3)
