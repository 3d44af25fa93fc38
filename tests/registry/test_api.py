from __future__ import annotations

import json

import pytest

from tests.conftest import as_user
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory, make_uscc
from workflow_app.registry import services
from workflow_app.registry.identifiers import resident_id_key
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


def item(n: int, **overrides) -> dict:
    data = {
        "external_id": f"SAMR-{n}",
        "subject": {"kind": "legal_person", "identifier": make_uscc(500 + n), "name": f"企业{n}"},
        "category": "licence",
        "nature": "positive",
        "title": f"行政许可 第{n}号",
        "content": "食品经营许可",
        "decision_date": "2025-01-02",
    }
    data.update(overrides)
    return data


# --- POST /api/v1/records/ ----------------------------------------------------------------------


def test_a_department_pushes_a_batch_and_gets_ids(api, dept_samr):
    response = as_user(api, dept_samr).post("/api/v1/records/", [item(1), item(2)], format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["updated"]) == (0 + 2, 0)
    assert [r["external_id"] for r in body["records"]] == ["SAMR-1", "SAMR-2"]
    assert CreditRecord.objects.filter(department=dept_samr.department).count() == 2


def test_pushing_the_same_batch_again_answers_200_with_the_same_ids(api, dept_samr):
    client = as_user(api, dept_samr)
    first = client.post("/api/v1/records/", {"records": [item(1)]}, format="json").json()
    again = client.post("/api/v1/records/", {"records": [item(1)]}, format="json")
    assert again.status_code == 200
    assert again.json() == {"created": 0, "updated": 0, "records": first["records"]}


def test_an_invalid_batch_answers_400_with_per_item_errors_and_stores_nothing(api, dept_samr):
    bad = item(2, nature="dishonesty")  # severity missing
    response = as_user(api, dept_samr).post(
        "/api/v1/records/", [item(1), bad, item(3)], format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_batch"
    assert body["message"] == "批次中有 1 条数据有误，整批未导入。"
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["field"] == "severity"
    assert CreditRecord.objects.count() == 0


def test_an_empty_batch_answers_400_with_a_clear_message(api, dept_samr):
    response = as_user(api, dept_samr).post("/api/v1/records/", [], format="json")
    assert response.status_code == 400
    assert "至少提供一条" in response.json()["message"]


def test_a_body_that_is_not_a_list_answers_400(api, dept_samr):
    response = as_user(api, dept_samr).post("/api/v1/records/", {"a": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"


def test_json_bodies_read_as_drf_reads_them(api, dept_samr):
    """Bodies are decoded by orjson with DRF's parser behind it: an integer beyond 64 bits (which
    orjson refuses) is still read, broken JSON is still DRF's 400 with its message."""
    client = as_user(api, dept_samr)
    big = 2**70
    body = json.dumps([item(1, external_id="BIG")]).replace('"BIG"', str(big))
    response = client.generic("POST", "/api/v1/records/", body.encode(), "application/json")
    assert response.status_code == 201, response.json()
    assert CreditRecord.objects.filter(external_id=str(big)).exists()
    broken = client.generic("POST", "/api/v1/records/", b'[{"external_id": ', "application/json")
    assert broken.status_code == 400 and "JSON" in broken.json()["message"]
    assert CreditRecord.objects.count() == 1


@pytest.mark.parametrize("who", ["applicant", "centre_user", "supervisor"])
def test_only_department_caseworkers_may_push(api, request, who):
    user = request.getfixturevalue(who)
    response = as_user(api, user).post("/api/v1/records/", [item(1)], format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "只有信源单位经办人可以推送信用信息"
    assert CreditRecord.objects.count() == 0


def test_a_department_user_without_a_department_may_not_push(api, db):
    user = UserFactory(role="department", department=None)
    assert as_user(api, user).post("/api/v1/records/", [item(1)], format="json").status_code == 403


def test_anonymous_may_not_push(api, db):
    assert api.post("/api/v1/records/", [item(1)], format="json").status_code in (401, 403)


# --- GET /api/v1/subjects/{identifier}/report/ --------------------------------------------------


@pytest.fixture
def person(db):
    return services.subject_get_or_create(kind="natural_person", identifier=VALID_ID, name="张三")


@pytest.fixture
def person_user(person):
    return UserFactory(username="zhangsan", role="applicant", subject=person)


@pytest.mark.parametrize("who", [None, "applicant", "other_applicant", "centre_user", "dept_emb"])
def test_everyone_sees_a_legal_persons_report(api, request, company, who):
    client = api if who is None else as_user(api, request.getfixturevalue(who))
    response = client.get(f"/api/v1/subjects/{company.identifier}/report/")
    assert response.status_code == 200
    assert response.json()["subject"]["name"] == company.name


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        (None, False),
        ("other_applicant", False),
        ("person_user", True),
        ("centre_user", True),
        ("supervisor", True),
    ],
)
def test_a_natural_persons_report_only_for_them_and_staff(api, request, person, who, visible):
    client = api if who is None else as_user(api, request.getfixturevalue(who))
    response = client.get(f"/api/v1/subjects/{VALID_ID}/report/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert response.json()["subject"]["identifier"] == "1101**********002X"
        assert VALID_ID not in response.content.decode()
    else:
        assert response.json()["message"] == (
            "未找到该主体的信用信息。请核对统一社会信用代码或身份证号码后重新查询。"
        )


def test_a_natural_person_is_also_found_by_the_lookup_key(api, person, person_user):
    response = as_user(api, person_user).get(
        f"/api/v1/subjects/{resident_id_key(VALID_ID)}/report/"
    )
    assert response.status_code == 200


def test_the_report_lists_only_published_records_with_the_mark(api, company, samr):
    shown = CreditRecordFactory(subject=company, department=samr, under_objection=True)
    for trait in ("corrected", "deleted", "repaired", "expired"):
        CreditRecordFactory(subject=company, department=samr, **{trait: True})
    response = api.get(f"/api/v1/subjects/{company.identifier}/report/")
    body = response.json()
    assert body["subject"] == {
        "kind": "legal_person",
        "name": company.name,
        "identifier": company.identifier,
        "grade": "BBB",
        "red_list": False,
        "black_list": False,
    }
    assert [r["id"] for r in body["records"]] == [shown.pk]
    record = body["records"][0]
    assert record["under_objection"] is True
    assert record["status"] == "published"
    assert record["department"] == "市场监督管理局"
    assert set(record) >= {
        "id",
        "category",
        "nature",
        "severity",
        "title",
        "status",
        "under_objection",
        "decision_date",
        "publicity_end",
    }


def test_an_invalid_identifier_answers_400_with_the_reason(api, db):
    response = api.get("/api/v1/subjects/91350100M000100Y44/report/")
    assert response.status_code == 400
    assert "校验位错误" in response.json()["message"]


def test_an_unknown_identifier_answers_404(api, db):
    response = api.get(f"/api/v1/subjects/{make_uscc(99999)}/report/")
    assert response.status_code == 404


# --- GET /api/v1/verify/{code}/ -----------------------------------------------------------------


def issue(subject, **kw):
    return services.decision_issue(
        case_kind="objection",
        case_id=7,
        case_reference="YY-2025-000007",
        subject=subject,
        record=None,
        title="信用信息异议处理结果",
        decision="modified",
        summary="已更正。",
        issued_by="市场监督管理局",
        **kw,
    )


def test_a_code_verifies_a_decision_in_force(api, company):
    doc = issue(company)
    response = api.get(f"/api/v1/verify/{doc.code.lower()}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == doc.code
    assert (body["status"], body["in_force"], body["revoked_at"]) == ("in_force", True, None)
    assert body["subject"] == company.name and body["case_reference"] == "YY-2025-000007"
    assert body["decision"] == "modified"


def test_a_revoked_decision_verifies_as_revoked(api, company, supervisor):
    doc = issue(company)
    services.decision_revoke(document=doc, reason="提供虚假材料", by=supervisor)
    body = api.get(f"/api/v1/verify/{doc.code}/").json()
    assert (body["status"], body["in_force"]) == ("revoked", False)
    assert body["revocation_reason"] == "提供虚假材料" and body["revoked_at"]


def test_a_natural_persons_name_is_masked_for_the_public(api, db):
    doc = issue(SubjectFactory(natural=True, name="李四"))
    assert api.get(f"/api/v1/verify/{doc.code}/").json()["subject"] == "李*"


@pytest.mark.parametrize("code", ["ABCD-EFGH-JKMN-PQRS", "nonsense"])
def test_an_unknown_code_answers_404_with_a_message(api, db, code):
    response = api.get(f"/api/v1/verify/{code}/")
    assert response.status_code == 404
    assert response.json()["message"] == "未找到该验证码对应的决定文书，请核对后重新输入。"


def test_the_schema_documents_the_registry_endpoints(api, db):
    schema = api.get("/api/schema/?format=json").json()
    assert "/api/v1/records/" in schema["paths"]
    assert "/api/v1/subjects/{identifier}/report/" in schema["paths"]
    assert "/api/v1/verify/{code}/" in schema["paths"]
