"""Portal pages of the objection workflow render for the right people and refuse the others."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CreditRecordFactory
from tests.processes.helpers import file_objection, open_task

pytestmark = pytest.mark.django_db


def _web(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def case(applicant, company, samr):
    record = CreditRecordFactory(subject=company, department=samr)
    return file_objection(applicant, record)["id"]


def test_applicant_pages(applicant, case):
    web = _web(applicant)
    assert "YY" in web.get("/objections/").content.decode()
    page = web.get(f"/objections/{case}/").content.decode()
    assert 'data-status="submitted"' in page and "撤回申请" in page
    assert "受理期限" in page  # deadlines are explained by name, not by code


def test_other_applicant_gets_404(other_applicant, case):
    assert _web(other_applicant).get(f"/objections/{case}/").status_code == 404


def test_supervisor_queue_offers_bulk_assignment(supervisor, centre_user, case):
    page = _web(supervisor).get("/queue/").content.decode()
    assert 'name="tasks"' in page and 'value="centre"' in page
    task = open_task(case, "objection_intake")
    r = _web(supervisor).post("/queue/assign/", {"tasks": [task.pk], "assignee": "centre"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.owner == centre_user


def test_caseworker_task_page_and_wrong_decision_message(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    page = web.get(f"/tasks/{task.pk}/").content.decode()
    assert "办理决定" in page and 'value="accept"' in page
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "not_accept"}, follow=True)
    assert "须写明理由" in r.content.decode()
    task.refresh_from_db()
    assert task.status in ("NEW", "ASSIGNED")


def test_department_cannot_open_centre_task(dept_samr, case):
    task = open_task(case, "objection_intake")
    assert _web(dept_samr).get(f"/tasks/{task.pk}/").status_code == 404


def test_queue_page_in_english(centre_user, case):
    web = _web(centre_user)
    web.post("/i18n/setlang/", {"language": "en", "next": "/queue/"})
    page = web.get("/queue/").content.decode()
    assert "Task queue" in page or "Queue" in page


def test_a_refused_decision_keeps_what_was_typed(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "not_accept", "reason": ""})
    page = r.content.decode()
    assert r.status_code == 400 and "须写明理由" in page
    assert (
        'value="not_accept" data-fields="reason" data-reason-required="1" required checked' in page
    )
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "request_supplement", "reason": "  "})
    assert r.status_code == 400


def test_after_completing_the_caseworker_sees_what_was_decided_and_where_it_went(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "accept"}, follow=True)
    page = r.content.decode()
    assert r.redirect_chain[-1][0] == f"/objections/{case}/"
    assert "已办理" in page and "受理" in page and "下一环节：平台核查（信用中心）" in page
    assert "办理当前任务" in page  # a link to the next task
