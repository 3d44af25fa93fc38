"""The lists over the API: a department joins, leaves and records the national report for its own
entries; another department is refused; staff read; anyone reads the public lists."""

from __future__ import annotations

import datetime

import pytest

from creditlists.models import ListEntry, NationalReport
from tests.conftest import as_user
from tests.creditlists.conftest import join
from tests.factories import SubjectFactory, make_uscc

pytestmark = pytest.mark.django_db

JOIN = {
    "list_type": "black",
    "reason": "拒不履行法定义务，情节严重。",
    "decision_reference": "深市监信〔2025〕3号",
    "joined_on": "2025-06-06",
}


def test_department_joins_leaves_and_reports(api, company, dept_samr):
    client = as_user(api, dept_samr)
    r = client.post(
        "/api/v1/lists/entries/",
        {**JOIN, "identifier": company.identifier.lower()},
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["status"] == "active"
    assert body["department"]["code"] == "SAMR"
    assert body["subject"]["identifier"] == company.identifier
    (join_report,) = body["national_reports"]
    assert join_report["due_date"] == "2025-06-20" and join_report["on_time"] is None
    company.refresh_from_db()
    assert company.black_list is True

    r = client.post(
        f"/api/v1/lists/national-reports/{join_report['id']}/report/",
        {"reported_on": "2025-06-23", "national_reference": "CN-9"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["on_time"] is False

    r = client.post(
        f"/api/v1/lists/entries/{body['id']}/leave/",
        {"reason": "已完成信用修复。", "decision_reference": "移字1号", "left_on": "2025-07-01"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "left"
    assert [x["action"] for x in r.json()["national_reports"]] == ["join", "leave"]
    company.refresh_from_db()
    assert company.black_list is False

    r = client.post(
        f"/api/v1/lists/entries/{body['id']}/leave/",
        {"reason": "再次移出", "decision_reference": "移字2号", "left_on": "2025-07-02"},
        format="json",
    )
    assert r.status_code == 409
    assert "不能再次移出" in r.json()["message"]


def test_another_department_is_refused(api, company, dept_samr, dept_emb):
    entry = join(company, dept_samr)
    report = entry.national_reports.get()
    client = as_user(api, dept_emb)
    r = client.post(
        f"/api/v1/lists/entries/{entry.pk}/leave/",
        {"reason": "移出", "decision_reference": "文号", "left_on": "2025-07-01"},
        format="json",
    )
    assert r.status_code == 403
    assert "谁认定谁移出" in r.json()["message"]
    r = client.post(
        f"/api/v1/lists/national-reports/{report.pk}/report/",
        {"reported_on": "2025-06-10", "national_reference": "CN-1"},
        format="json",
    )
    assert r.status_code == 403
    entry.refresh_from_db()
    report.refresh_from_db()
    assert entry.status == "active" and report.reported_on is None
    # the other department does not see the entry among its own
    assert client.get("/api/v1/lists/entries/").json()["results"] == []
    assert client.get(f"/api/v1/lists/entries/{entry.pk}/").status_code == 404


def test_unknown_subject_is_404_and_invalid_code_400(api, dept_samr):
    client = as_user(api, dept_samr)
    r = client.post("/api/v1/lists/entries/", {**JOIN, "identifier": make_uscc(999)}, format="json")
    assert r.status_code == 404
    assert "未找到统一社会信用代码" in r.json()["message"]
    bad = make_uscc(999)[:17] + ("0" if make_uscc(999)[17] != "0" else "1")
    r = client.post("/api/v1/lists/entries/", {**JOIN, "identifier": bad}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "identifier"
    assert "校验位" in r.json()["message"]
    assert not ListEntry.objects.exists()


def test_refusals_answer_with_a_message(api, company, dept_samr):
    client = as_user(api, dept_samr)
    join(company, dept_samr, list_type="black")
    r = client.post(
        "/api/v1/lists/entries/",
        {**JOIN, "list_type": "red", "identifier": company.identifier},
        format="json",
    )
    assert r.status_code == 409
    assert "失信黑名单" in r.json()["message"]
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    other = SubjectFactory()
    r = client.post(
        "/api/v1/lists/entries/",
        {**JOIN, "identifier": other.identifier, "joined_on": tomorrow},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "joined_on"
    assert NationalReport.objects.count() == 1


def test_only_department_caseworkers_write(api, company, centre_user, supervisor, applicant):
    for user in (centre_user, supervisor, applicant):
        r = as_user(api, user).post(
            "/api/v1/lists/entries/", {**JOIN, "identifier": company.identifier}, format="json"
        )
        assert r.status_code == 403
    api.force_authenticate(user=None)
    r = api.post("/api/v1/lists/entries/", {**JOIN, "identifier": company.identifier})
    assert r.status_code == 401
    assert not ListEntry.objects.exists()


def test_staff_read_every_entry_applicants_do_not(
    api, company, dept_samr, dept_emb, centre_user, supervisor, applicant
):
    join(company, dept_samr)
    join(SubjectFactory(name="应急公司"), dept_emb, list_type="red")
    for user in (centre_user, supervisor):
        body = as_user(api, user).get("/api/v1/lists/entries/").json()
        assert body["count"] == 2
    body = as_user(api, supervisor).get("/api/v1/lists/entries/?list_type=red").json()
    assert [e["subject"]["name"] for e in body["results"]] == ["应急公司"]
    body = as_user(api, dept_samr).get("/api/v1/lists/entries/").json()
    assert [e["department"]["code"] for e in body["results"]] == ["SAMR"]
    assert as_user(api, applicant).get("/api/v1/lists/entries/").status_code == 403


def test_public_list_paginated_and_searchable(api, company, dept_samr):
    join(company, dept_samr, list_type="black")
    join(SubjectFactory(name="另一家公司"), dept_samr, list_type="black")
    join(SubjectFactory(name="红名单企业"), dept_samr, list_type="red")
    api.force_authenticate(user=None)

    body = api.get("/api/v1/lists/black/").json()
    assert body["count"] == 2
    assert {e["name"] for e in body["results"]} == {company.name, "另一家公司"}
    assert set(body["results"][0]) == {
        "name",
        "identifier",
        "department",
        "joined_on",
        "reason",
        "decision_reference",
    }
    body = api.get("/api/v1/lists/black/", {"q": "坪山"}).json()
    assert [e["identifier"] for e in body["results"]] == [company.identifier]
    body = api.get("/api/v1/lists/black/", {"q": company.identifier}).json()
    assert body["count"] == 1
    body = api.get("/api/v1/lists/black/", {"limit": 1}).json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    body = api.get("/api/v1/lists/red/").json()
    assert [e["name"] for e in body["results"]] == ["红名单企业"]


def test_schema_documents_the_list_endpoints(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = r.json()["paths"]
    for path in (
        "/api/v1/lists/entries/",
        "/api/v1/lists/entries/{id}/",
        "/api/v1/lists/entries/{id}/leave/",
        "/api/v1/lists/national-reports/{id}/report/",
        "/api/v1/lists/red/",
        "/api/v1/lists/black/",
    ):
        assert path in paths, path
    assert "409" in paths["/api/v1/lists/entries/{id}/leave/"]["post"]["responses"]
