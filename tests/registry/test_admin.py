from __future__ import annotations

import pytest

from tests.factories import CreditRecordFactory, UserFactory
from workflow_app.registry import services
from workflow_app.registry.models import Subject

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", administrator=True))
    return client


def test_registry_admin_lists_render(admin_client, company):
    record = CreditRecordFactory(subject=company)
    doc = services.decision_issue(
        case_kind="objection",
        case_id=1,
        case_reference="YY-1",
        subject=company,
        record=record,
        title="t",
        decision="confirmed",
        summary="s",
        issued_by="x",
    )
    for url in (
        "/admin/registry/department/",
        "/admin/registry/subject/",
        f"/admin/registry/subject/?q={company.identifier}",
        "/admin/registry/creditrecord/?status__exact=published",
        f"/admin/registry/creditrecord/{record.pk}/change/",
        f"/admin/registry/creditrecord/{record.pk}/history/",
        "/admin/registry/decisiondocument/",
        f"/admin/registry/decisiondocument/{doc.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_credit_records_cannot_be_added_in_admin(admin_client):
    assert admin_client.get("/admin/registry/creditrecord/add/").status_code == 403


def test_a_natural_person_added_in_admin_is_hashed_and_masked(admin_client):
    response = admin_client.post(
        "/admin/registry/subject/add/",
        {"kind": "natural_person", "raw_identifier": VALID_ID, "name": "张三", "grade": "A"},
    )
    assert response.status_code == 302
    subject = Subject.objects.get()
    assert subject.identifier_display == "1101**********002X"
    assert VALID_ID not in subject.identifier


def test_an_invalid_code_added_in_admin_shows_why(admin_client):
    response = admin_client.post(
        "/admin/registry/subject/add/",
        {"kind": "legal_person", "raw_identifier": "91350100M000100Y44", "name": "x", "grade": "A"},
    )
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    assert not Subject.objects.exists()


def test_the_history_page_is_in_chinese_throughout(admin_client, company, samr):
    """simple-history's zh_Hans catalog leaves its diff column's head in English; the project's
    catalog (locale/zh_Hans) fills it."""
    from django.utils import translation

    from tests.factories import CreditRecordFactory

    record = CreditRecordFactory(subject=company, department=samr)
    record.note = "更正"
    record._change_reason = "corrected"
    record.save()
    with translation.override("zh-hans"):
        page = admin_client.get(
            f"/admin/registry/creditrecord/{record.pk}/history/", HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert "变更内容" in page and ">Changes<" not in page
