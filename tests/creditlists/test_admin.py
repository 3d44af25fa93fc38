"""The administrator joins, removes and records reports through the admin; the forms call the
services (history, flag, audit), and the entries are otherwise read-only with their history."""

from __future__ import annotations

import pytest

from creditlists.models import ListEntry
from tests.creditlists.conftest import join
from tests.factories import SubjectFactory
from workflow_app.audit.models import TransitionLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _join_post(subject, department, **changes):
    data = {
        "identifier": subject.identifier,
        "list_type": "red",
        "department": department.pk,
        "reason": "连续三年A级纳税人。",
        "decision_reference": "深税信〔2025〕8号",
        "joined_on": "2025-06-06",
    }
    data.update(changes)
    return data


def test_admin_adds_an_entry_through_the_service(admin_client, admin_user, company, samr):
    assert admin_client.get("/admin/creditlists/listentry/add/").status_code == 200
    r = admin_client.post("/admin/creditlists/listentry/add/", _join_post(company, samr))
    entry = ListEntry.objects.get()
    assert r.status_code == 302 and r.url.endswith(f"/listentry/{entry.pk}/change/")
    assert entry.history.get().history_user == admin_user
    assert entry.national_reports.count() == 1
    assert TransitionLog.objects.filter(chain_key=f"creditlist:{entry.pk}").count() == 1
    company.refresh_from_db()
    assert company.red_list is True

    page = admin_client.get(f"/admin/creditlists/listentry/{entry.pk}/change/").content.decode()
    assert "移出名单" in page
    assert 'name="reason"' not in page  # read-only
    history = admin_client.get(f"/admin/creditlists/listentry/{entry.pk}/history/")
    assert history.status_code == 200


def test_admin_form_shows_the_service_refusal(admin_client, company, samr, dept_samr):
    join(company, dept_samr, list_type="black")
    r = admin_client.post("/admin/creditlists/listentry/add/", _join_post(company, samr))
    assert r.status_code == 200
    assert "不能列入守信红名单" in r.content.decode()
    assert ListEntry.objects.count() == 1
    other = SubjectFactory()
    bad = other.identifier[:17] + ("0" if other.identifier[17] != "0" else "1")
    r = admin_client.post(
        "/admin/creditlists/listentry/add/", _join_post(other, samr, identifier=bad)
    )
    assert r.status_code == 200 and "校验位错误" in r.content.decode()
    assert ListEntry.objects.count() == 1


def test_admin_removes_and_records_the_report(admin_client, admin_user, company, dept_samr):
    entry = join(company, dept_samr)
    r = admin_client.post(
        f"/admin/creditlists/listentry/{entry.pk}/leave/",
        {
            "reason": "异议成立，撤销列入。",
            "decision_reference": "撤字1号",
            "left_on": "2025-07-01",
        },
    )
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "left" and entry.left_by == admin_user
    company.refresh_from_db()
    assert company.black_list is False

    report = entry.national_reports.get(action="leave")
    r = admin_client.post(
        f"/admin/creditlists/nationalreport/{report.pk}/report/",
        {"reported_on": "2025-07-02", "national_reference": "CN-77"},
    )
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.national_reference == "CN-77"
    r = admin_client.post(
        f"/admin/creditlists/nationalreport/{report.pk}/report/",
        {"reported_on": "2025-07-03", "national_reference": "CN-78"},
    )
    assert r.status_code == 200 and "不能重复报送" in r.content.decode()
    assert admin_client.get("/admin/creditlists/nationalreport/").status_code == 200
    assert admin_client.get("/admin/creditlists/listentry/?q=坪山").status_code == 200
