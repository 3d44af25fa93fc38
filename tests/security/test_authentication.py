"""Failed logins are throttled per account and per address (django-axes) on the token endpoint
and the login page; failures are recorded; API tokens can be revoked."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client, override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _token(client, username, password, ip="10.9.8.7"):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_token_endpoint_locks_an_account_after_repeated_failures(applicant):
    api = APIClient()
    codes = [_token(api, "applicant", f"wrong-{i}").status_code for i in range(5)]
    assert codes[:4] == [400, 400, 400, 400] and codes[4] in (400, 429)
    assert _token(api, "applicant", "still-wrong").status_code == 429
    r = _token(api, "applicant", "demo-pass-2026")  # right password, still locked
    assert r.status_code == 429 and r.json()["code"] == "locked_out"
    assert "分钟后再试" in r.json()["message"] and int(r["Retry-After"]) > 0
    # the same account from another address is locked too (per account)
    assert _token(api, "applicant", "demo-pass-2026", ip="10.1.1.1").status_code == 429
    assert AccessAttempt.objects.exists() and AccessFailureLog.objects.count() >= 5


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_one_address_trying_many_accounts_is_locked(applicant, centre_user):
    api = APIClient()
    for i in range(5):
        _token(api, f"nobody{i}", "x", ip="10.7.7.7")
    r = _token(api, "centre", "demo-pass-2026", ip="10.7.7.7")
    assert r.status_code == 429
    assert _token(api, "centre", "demo-pass-2026", ip="10.2.2.2").status_code == 200


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_login_page_shows_the_lockout_with_when_to_retry(applicant):
    web = Client(REMOTE_ADDR="10.3.3.3")
    for _ in range(3):
        web.post("/accounts/login/", {"username": "applicant", "password": "bad"})
    r = web.post("/accounts/login/", {"username": "applicant", "password": "demo-pass-2026"})
    assert r.status_code == 429 and 'id="lockout"' in r.content.decode()
    assert "_auth_user_id" not in web.session


@override_settings(AXES_ENABLED=True)
def test_a_good_login_after_a_few_failures_resets_the_count(applicant):
    api = APIClient()
    for i in range(3):
        _token(api, "applicant", f"wrong-{i}", ip="10.4.4.4")
    assert _token(api, "applicant", "demo-pass-2026", ip="10.4.4.4").status_code == 200


def test_tokens_can_be_revoked(applicant):
    api = APIClient()
    key = _token(api, "applicant", "demo-pass-2026").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/auth/me/").status_code == 200
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get("/api/v1/auth/me/").status_code == 401


def test_tokens_and_attempts_are_listed_in_the_admin(admin_client):
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 200
    assert admin_client.get("/admin/axes/accessattempt/").status_code == 200
    assert admin_client.get("/admin/axes/accessfailurelog/").status_code == 200


@override_settings(
    AXES_ENABLED=True,
    AXES_FAILURE_LIMIT=3,
    AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
    AXES_IPWARE_PROXY_COUNT=1,
)
def test_behind_a_proxy_each_client_address_counts_on_its_own(applicant, centre_user):
    api = APIClient()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for i in range(3):
        api.post(
            "/api/v1/auth/token/",
            {"username": f"nobody{i}", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1",
            **proxy,
        )
    locked = api.post(
        "/api/v1/auth/token/",
        {"username": "centre", "password": "demo-pass-2026"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1",
        **proxy,
    )
    other = api.post(
        "/api/v1/auth/token/",
        {"username": "centre", "password": "demo-pass-2026"},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.1",
        **proxy,
    )
    assert locked.status_code == 429 and other.status_code == 200
