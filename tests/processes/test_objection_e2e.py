"""End to end over HTTP: every objection outcome through every queue (SPEC §5, §12)."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from processes.models import CaseTask
from tests.factories import CreditRecordFactory
from tests.processes.helpers import (
    client_for,
    complete,
    deliver_outbox,
    detail,
    file_objection,
    open_task,
)
from workflow_app.registry.models import CreditRecord, DecisionDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(company, samr):
    return CreditRecordFactory(subject=company, department=samr, content="罚款人民币5000元。")


def _accept_and_forward(case_id, centre_user):
    complete(centre_user, open_task(case_id, "objection_intake"), decision="accept")
    complete(centre_user, open_task(case_id, "objection_platform_check"), decision="forward")
    return open_task(case_id, "objection_verification")


def test_filing_returns_reference_status_and_intake_deadline(applicant, record, centre_user):
    body = file_objection(applicant, record)
    assert body["status"] == "submitted"
    assert body["reference"].startswith("YY")
    assert body["deadline"]
    task = open_task(body["id"], "objection_intake")
    assert task.queue == "centre"
    assert task.due_at is not None
    # the centre sees it in its queue
    tasks = client_for(centre_user).get("/api/v1/tasks/").json()["results"]
    assert [t["case_id"] for t in tasks] == [body["id"]]
    assert set(tasks[0]) >= {"id", "kind", "case_id", "step", "deadline", "overdue", "assignee"}
    assert tasks[0]["kind"] == "objection" and tasks[0]["step"] == "objection_intake"


@pytest.mark.parametrize("outcome", ["confirmed", "modified", "deleted", "undetermined"])
def test_department_outcomes(outcome, applicant, record, centre_user, dept_samr):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    record.refresh_from_db()
    assert record.under_objection is True
    # the mark shows on the public report while accepted/forwarded
    report = (
        client_for(applicant).get(f"/api/v1/subjects/{record.subject.identifier}/report/").json()
    )
    assert [r["under_objection"] for r in report["records"] if r["id"] == record.pk] == [True]
    complete(centre_user, open_task(case, "objection_platform_check"), decision="forward")
    task = open_task(case, "objection_verification")
    assert task.queue == "dept:SAMR"
    data = {"decision": "resolve", "outcome": outcome, "reason": "经核查处理。"}
    if outcome == "modified":
        data["content"] = "罚款人民币3000元。"
    complete(dept_samr, task, **data)

    d = detail(applicant, case)
    assert d["status"] == "resolved"
    assert d["outcome"] == outcome
    assert d["verification_code"]
    assert [e["to"] for e in d["timeline"] if e.get("event", "transition") == "transition"] == [
        "submitted",
        "accepted",
        "forwarded",
        "resolved",
    ]
    record.refresh_from_db()
    assert record.under_objection is False
    if outcome == "modified":
        assert record.status == "corrected"
        new = CreditRecord.objects.get(previous_version=record)
        assert new.content == "罚款人民币3000元。" and new.status == "published"
        assert d["result_record"] == new.pk
    elif outcome == "deleted":
        assert record.status == "deleted"
    elif outcome == "undetermined":
        assert record.status == "published" and "无法确认" in record.note
    else:
        assert record.status == "published"
    doc = client_for(applicant).get(f"/api/v1/verify/{d['verification_code']}/").json()
    assert doc["in_force"] is True
    # the applicant was told at every step
    deliver_outbox()
    events = set(Notification.objects.filter(recipient=applicant).values_list("event", flat=True))
    assert {
        "objection.submitted",
        "objection.accepted",
        "objection.forwarded",
        "objection.resolved",
    } <= events
    # the department queue was told when the case was forwarded
    assert Notification.objects.filter(
        recipient=dept_samr, event="objection.forwarded_to_department"
    ).exists()


@pytest.mark.parametrize("outcome", ["modified", "deleted"])
def test_platform_check_resolves_own_processing_error(outcome, applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    data = {"decision": "resolve", "outcome": outcome, "reason": "平台归集错误。"}
    if outcome == "modified":
        data["content"] = "更正内容"
    complete(centre_user, open_task(case, "objection_platform_check"), **data)
    d = detail(applicant, case)
    assert d["status"] == "resolved" and d["outcome"] == outcome
    assert not CaseTask.objects.filter(case_id=case, status__in=["NEW", "ASSIGNED"]).exists()


def test_platform_check_cannot_confirm(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    body = complete(
        centre_user,
        open_task(case, "objection_platform_check"),
        expect=400,
        decision="resolve",
        outcome="confirmed",
    )
    assert "modified" in body["message"]
    assert detail(applicant, case)["status"] == "accepted"


def test_not_accepted_needs_reason_and_issues_document(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    task = open_task(case, "objection_intake")
    body = complete(centre_user, task, expect=400, decision="not_accept")
    assert body["errors"][0]["field"] == "reason"
    complete(centre_user, task, decision="not_accept", reason="不属于受理范围。")
    d = detail(applicant, case)
    assert d["status"] == "not_accepted"
    assert d["verification_code"]
    assert DecisionDocument.objects.get(code=d["verification_code"]).decision == "not_accepted"
    # the public verification names the decision, in the reader's language, not its code
    from django.test import Client

    v = client_for(None).get(f"/api/v1/verify/{d['verification_code']}/").json()
    assert v["decision_label"] == "不予受理" and "不属于受理范围。" in v["summary"]
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/verify/{d['verification_code']}/")
    assert "not_accepted" not in page.content.decode().split("<main", 1)[-1]


def test_supplement_loop_returns_to_intake(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    complete(
        centre_user,
        open_task(case, "objection_intake"),
        decision="request_supplement",
        reason="请补充缴款凭证。",
    )
    d = detail(applicant, case)
    assert d["status"] == "needs_supplement"
    assert not CaseTask.objects.filter(
        case_id=case, step="objection_intake", status__in=["NEW", "ASSIGNED"]
    ).exists()
    r = client_for(applicant).post(
        f"/api/v1/objections/{case}/supplement/", {"text": "已补充。"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "submitted"
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    assert detail(applicant, case)["status"] == "accepted"


def test_withdraw_removes_mark_and_cancels_tasks(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    r = client_for(applicant).post(f"/api/v1/objections/{case}/withdraw/", {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "withdrawn"
    record.refresh_from_db()
    assert record.under_objection is False
    assert (
        not CaseTask.objects.filter(case_id=case, status__in=["NEW", "ASSIGNED"])
        .exclude(queue="")
        .exists()
    )
    assert client_for(centre_user).get("/api/v1/tasks/").json()["results"] == []
    # withdrawing again: wrong state, clear message, 409
    r = client_for(applicant).post(f"/api/v1/objections/{case}/withdraw/", {}, format="json")
    assert r.status_code == 409
    assert "撤回" in r.json()["message"]


def test_completed_task_answers_409(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    task = open_task(case, "objection_intake")
    complete(centre_user, task, decision="accept")
    body = complete(centre_user, task, expect=409, decision="accept")
    assert "centre" in body["message"]


def test_task_held_by_someone_else_answers_409(applicant, record, centre_user):
    from tests.factories import UserFactory

    colleague = UserFactory(username="centre2", centre=True)
    case = file_objection(applicant, record)["id"]
    task = open_task(case, "objection_intake")
    assert client_for(colleague).post(f"/api/v1/tasks/{task.pk}/claim/").status_code == 200
    body = complete(centre_user, task, expect=409, decision="accept")
    assert "centre2" in body["message"]
    # releasing by the holder gives it back to the group
    assert client_for(colleague).post(f"/api/v1/tasks/{task.pk}/release/").status_code == 200
    complete(centre_user, task, decision="accept")


def test_department_cannot_see_other_departments_tasks(applicant, record, centre_user, dept_emb):
    case = file_objection(applicant, record)["id"]
    task = _accept_and_forward(case, centre_user)
    assert client_for(dept_emb).get("/api/v1/tasks/").json()["results"] == []
    r = client_for(dept_emb).post(
        f"/api/v1/tasks/{task.pk}/complete/",
        {"decision": "resolve", "outcome": "confirmed", "reason": "x"},
        format="json",
    )
    assert r.status_code == 404
    assert client_for(dept_emb).get(f"/api/v1/objections/{case}/").status_code == 404


def test_supervisor_bulk_assigns(applicant, record, centre_user, supervisor):
    from tests.factories import CreditRecordFactory as RF

    other = RF(subject=record.subject, department=record.department)
    a = file_objection(applicant, record)["id"]
    b = file_objection(applicant, other)["id"]
    ids = [open_task(a, "objection_intake").pk, open_task(b, "objection_intake").pk]
    r = client_for(supervisor).post(
        "/api/v1/tasks/assign/", {"tasks": ids, "assignee": "centre"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert {t["assignee"] for t in r.json()["results"]} == {"centre"}
    mine = client_for(centre_user).get("/api/v1/tasks/?mine=1").json()["results"]
    assert sorted(t["id"] for t in mine) == sorted(ids)
    # a non-supervisor cannot assign
    r = client_for(centre_user).post(
        "/api/v1/tasks/assign/", {"tasks": ids, "assignee": None}, format="json"
    )
    assert r.status_code == 403


def test_invalid_decision_lists_the_allowed_ones(applicant, record, centre_user):
    case = file_objection(applicant, record)["id"]
    body = complete(
        centre_user, open_task(case, "objection_intake"), expect=400, decision="approve"
    )
    assert "accept" in body["message"] and "request_supplement" in body["message"]


def test_applicant_cannot_use_task_api(applicant, record):
    assert client_for(applicant).get("/api/v1/tasks/").status_code == 403


def test_withdraw_while_waiting_for_supplements_ends_the_flow(applicant, record, centre_user):
    from processes.models import CaseProcess

    case = file_objection(applicant, record)["id"]
    complete(
        centre_user,
        open_task(case, "objection_intake"),
        decision="request_supplement",
        reason="请补充缴款凭证。",
    )
    r = client_for(applicant).post(f"/api/v1/objections/{case}/withdraw/", {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "withdrawn"
    assert CaseProcess.objects.get(case_kind="objection", case_id=case).status == "CANCELED"
    assert not CaseTask.objects.filter(case_id=case, status__in=["NEW", "ASSIGNED"]).exists()
    # supplements after withdrawal are refused with a clear message
    r = client_for(applicant).post(
        f"/api/v1/objections/{case}/supplement/", {"text": "补充"}, format="json"
    )
    assert r.status_code == 409 and "已撤回" in r.json()["message"]


def test_another_applicant_cannot_see_or_withdraw(applicant, other_applicant, record):
    case = file_objection(applicant, record)["id"]
    assert client_for(other_applicant).get(f"/api/v1/objections/{case}/").status_code == 404
    r = client_for(other_applicant).post(f"/api/v1/objections/{case}/withdraw/", {}, format="json")
    assert r.status_code == 404
    assert detail(applicant, case)["status"] == "submitted"


def test_whoever_completes_an_unclaimed_task_is_recorded_on_its_deadline(
    applicant, record, centre_user
):
    from workflow_app.workdays.models import Deadline

    case_id = file_objection(applicant, record)["id"]
    intake = open_task(case_id, "objection_intake")
    assert intake.owner_id is None
    answer = complete(centre_user, intake, decision="accept")
    assert (answer["status"], answer["case_status"]) == ("DONE", "accepted")
    deadline = Deadline.objects.get(pk=intake.deadline_id)
    assert (deadline.status, deadline.assignee_id) == ("met", centre_user.pk)
    check = Deadline.objects.get(case_id=case_id, kind="objection_platform_check")
    assert (check.status, check.assignee_id) == ("open", None)  # the next step's, unclaimed
