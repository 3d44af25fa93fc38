from __future__ import annotations

import pytest

from tests.factories import UserFactory
from workflow_app.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", administrator=True))
    return client


def test_admin_user_pages_render(admin_client, applicant):
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
    page = admin_client.get(f"/admin/accounts/user/{applicant.pk}/change/")
    assert page.status_code == 200
    assert 'name="role"' in page.content.decode()
    assert admin_client.get(f"/admin/accounts/user/{applicant.pk}/history/").status_code == 200


def test_admin_refuses_an_applicant_without_subject(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "lonely",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
            "role": "applicant",
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 200
    assert "申请人账户必须关联一个信用主体" in response.content.decode()
    assert not User.objects.filter(username="lonely").exists()


def test_admin_creates_a_department_caseworker(admin_client, samr):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "samr2",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
            "role": "department",
            "department": samr.pk,
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="samr2").department == samr
