from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_is_issued_for_good_credentials_and_authenticates_me(api, applicant):
    # when
    response = api.post(
        "/api/v1/auth/token/", {"username": "applicant", "password": PASSWORD}, format="json"
    )
    # then
    assert response.status_code == 200
    token = response.json()["token"]
    me = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "applicant"


def test_token_is_stable_across_requests(api, applicant):
    first = api.post("/api/v1/auth/token/", {"username": "applicant", "password": PASSWORD})
    second = api.post("/api/v1/auth/token/", {"username": "applicant", "password": PASSWORD})
    assert first.json()["token"] == second.json()["token"]


def test_wrong_password_is_refused_with_a_json_message(api, applicant):
    response = api.post(
        "/api/v1/auth/token/", {"username": "applicant", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"] == "用户名或密码错误"
    assert "token" not in response.json()


def test_unknown_user_gets_the_same_message(api, db):
    response = api.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"})
    assert response.status_code == 400
    assert response.json()["message"] == "用户名或密码错误"


def test_missing_password_names_the_field(api, db):
    response = api.post("/api/v1/auth/token/", {"username": "applicant"}, format="json")
    assert response.status_code == 400
    assert any(e["field"] == "password" for e in response.json()["errors"])


def test_inactive_user_gets_no_token(api, applicant):
    applicant.is_active = False
    applicant.save()
    response = api.post("/api/v1/auth/token/", {"username": "applicant", "password": PASSWORD})
    assert response.status_code == 400


def test_me_for_applicant_shows_the_subject(api, applicant, company):
    api.force_authenticate(applicant)
    body = api.get("/api/v1/auth/me/").json()
    assert body == {
        "username": "applicant",
        "role": "applicant",
        "subject": {"identifier": company.identifier_display, "name": company.name},
        "department": None,
    }


def test_me_for_department_caseworker_shows_the_department_code(api, dept_samr):
    api.force_authenticate(dept_samr)
    body = api.get("/api/v1/auth/me/").json()
    assert body["role"] == "department"
    assert body["subject"] is None
    assert body["department"] == "SAMR"


def test_me_for_natural_person_shows_the_masked_id(api, db):
    from tests.factories import SubjectFactory, UserFactory

    person = SubjectFactory(natural=True)
    user = UserFactory(role="applicant", subject=person)
    api.force_authenticate(user)
    body = api.get("/api/v1/auth/me/").json()
    assert "*" in body["subject"]["identifier"]
    assert body["subject"]["identifier"] != person.identifier


def test_me_for_anonymous_is_refused_with_json(api, db):
    response = api.get("/api/v1/auth/me/")
    assert response.status_code in (401, 403)
    assert response.json()["message"]


def test_me_with_a_bad_token_is_refused(api, db):
    response = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    assert response.json()["message"]


def test_schema_documents_the_auth_endpoints(api, db):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/auth/token/" in text
    assert "/api/v1/auth/me/" in text
