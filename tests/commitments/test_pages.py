"""Commitment pages render for the people who use them, and refuse the others."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.processes.helpers import complete, open_task
from tests.processes.helpers import sign_commitment as sign

pytestmark = pytest.mark.django_db


def _web(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_pages_per_role(applicant, samr, dept_samr, supervisor, company, other_applicant):
    cid = sign(applicant)["id"]
    pages = {
        applicant: ["/commitments/", "/commitments/new/", f"/commitments/{cid}/", "/"],
        dept_samr: ["/commitments/", f"/commitments/{cid}/", "/queue/", "/credit-check/"],
        supervisor: ["/random-checks/", "/queue/", "/commitments/"],
    }
    for user, urls in pages.items():
        for url in urls:
            assert _web(user).get(url).status_code == 200, (user.username, url)
    own = _web(applicant).get(f"/commitments/{cid}/").content.decode()
    assert 'id="fulfilment-form"' in own and "违诺责任" in own
    assert _web(other_applicant).get(f"/commitments/{cid}/").status_code == 404
    assert _web(dept_samr).get("/random-checks/").status_code == 404
    assert _web(applicant).get("/credit-check/").status_code == 404


def test_sign_form_prefills_the_template_and_shows_exclusion(applicant, company, samr):
    page = _web(applicant).get("/commitments/new/?kind=deficiency").content.decode()
    assert "补齐" in page  # the deficiency template is prefilled
    company.black_list = True
    company.save()
    page = _web(applicant).get("/commitments/new/").content.decode()
    assert 'id="excluded"' in page and "黑名单" in page


def test_task_pages_for_verification_and_review(applicant, samr, dept_samr, supervisor):
    cid = sign(applicant)["id"]
    task = open_task(cid, "commitment_verification")
    page = _web(dept_samr).get(f"/tasks/{task.pk}/").content.decode()
    assert 'value="fulfilled"' in page and 'value="breach_suspected"' in page
    assert "该主体的信用记录" in page  # the subject's history beside the decision
    complete(dept_samr, task, decision="breach_suspected", reason="未履约")
    review = open_task(cid, "breach_review")
    page = _web(supervisor).get(f"/tasks/{review.pk}/").content.decode()
    assert 'value="confirm"' in page and 'value="dismiss"' in page and "未履约" in page


def test_random_check_and_credit_check_pages(applicant, company, samr, dept_samr, supervisor):
    sign(applicant)
    web = _web(supervisor)
    r = web.post("/random-checks/", {"seed": "7"}, follow=True)
    assert r.status_code == 200 and "随机种子" in r.content.decode()
    detail = r.redirect_chain[-1][0]
    page = web.get(f"{detail}?replay=1").content.decode()
    assert 'id="replay-result"' in page and "一致" in page
    page = _web(dept_samr).get(f"/credit-check/?q={company.identifier}").content.decode()
    assert 'id="credit-check-result"' in page and company.name in page
    page = _web(dept_samr).get("/credit-check/?q=123").content.decode()
    assert "alert-error" in page
