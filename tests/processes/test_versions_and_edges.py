"""Cases follow their record's version chain; edge inputs never give a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from processes.models import CaseTask
from tests.factories import CreditRecordFactory
from tests.processes.helpers import client_for, complete, detail, file_objection, open_task
from workflow_app.registry import services as registry
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(company, samr):
    return CreditRecordFactory(subject=company, department=samr, content="原内容")


def _department_pushes_correction(record, dept_user):
    """What a batch import of changed content does: a new version that keeps the mark."""
    record.refresh_from_db()
    return registry.record_new_version(
        record=record,
        changes={"content": "部门推送的新内容", "under_objection": record.under_objection},
        by=dept_user,
        reason="batch import",
    )


def test_modified_outcome_after_department_pushed_a_new_version(
    applicant, record, centre_user, dept_samr
):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    complete(centre_user, open_task(case, "objection_platform_check"), decision="forward")
    _department_pushes_correction(record, dept_samr)
    complete(
        dept_samr,
        open_task(case, "objection_verification"),
        decision="resolve",
        outcome="modified",
        content="经核查更正后的内容",
        reason="更正",
    )
    current = CreditRecord.objects.exclude(status="corrected").get(external_id=record.external_id)
    assert current.content == "经核查更正后的内容" and current.under_objection is False
    assert detail(applicant, case)["status"] == "resolved"


def test_no_second_open_objection_on_a_newer_version(applicant, record, centre_user, dept_samr):
    case = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(case, "objection_intake"), decision="accept")
    newer = _department_pushes_correction(record, dept_samr)
    r = client_for(applicant).post(
        "/api/v1/objections/",
        {"record": newer.pk, "grounds": "error", "description": "x", "commitment_accepted": True},
        format="json",
    )
    assert r.status_code == 409 and r.json()["code"] == "duplicate_open"
    assert detail(applicant, case)["record"]["under_objection"] is True


def test_accept_refused_when_record_no_longer_published(applicant, record, centre_user, dept_samr):
    case = file_objection(applicant, record)["id"]
    registry.record_set_status(record=record, status="deleted", by=dept_samr, reason="withdrawn")
    body = complete(centre_user, open_task(case, "objection_intake"), expect=409, decision="accept")
    assert "不予受理" in body["message"]
    complete(
        centre_user, open_task(case, "objection_intake"), decision="not_accept", reason="信息已删除"
    )


def test_background_task_is_nobodys_queue_task(applicant, record, centre_user, supervisor):
    case = file_objection(applicant, record)["id"]
    complete(
        centre_user,
        open_task(case, "objection_intake"),
        decision="request_supplement",
        reason="补充",
    )
    handle = CaseTask.objects.get(process__case_id=case, status="NEW", queue="")
    for action in ("claim", "release"):
        r = client_for(supervisor).post(f"/api/v1/tasks/{handle.pk}/{action}/")
        assert r.status_code == 404, (action, r.content)
    r = client_for(supervisor).post(
        "/api/v1/tasks/assign/", {"tasks": [handle.pk], "assignee": "centre"}, format="json"
    )
    assert r.status_code == 404
    # the flow still moves on when the supplements arrive
    r = client_for(applicant).post(
        f"/api/v1/objections/{case}/supplement/", {"text": "已补充"}, format="json"
    )
    assert r.status_code == 200 and open_task(case, "objection_intake")


def test_odd_digits_in_forms_do_not_crash(supervisor, applicant):
    web = Client()
    web.force_login(supervisor)
    assert web.post("/queue/assign/", {"tasks": ["²", "abc"]}).status_code == 302
    web.force_login(applicant)
    assert web.get("/objections/new/?record=²").status_code == 302
