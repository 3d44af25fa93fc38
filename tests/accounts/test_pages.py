from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_a_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "信用业务协同系统" in html


def test_wrong_password_shows_a_clear_error(client, applicant):
    response = client.post("/accounts/login/", {"username": "applicant", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_good_password_logs_in_and_lands_on_home(client, applicant):
    response = client.post(
        "/accounts/login/", {"username": "applicant", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert applicant.subject.name in response.content.decode()


@override_settings(DEMO_MODE=True)
def test_demo_hint_is_shown_in_demo_mode(client):
    assert "demo-pass-2026" in client.get("/accounts/login/").content.decode()


@override_settings(DEBUG=False, DEMO_MODE=False)
def test_demo_hint_is_hidden_in_production(client):
    assert "demo-pass-2026" not in client.get("/accounts/login/").content.decode()


def test_logout_is_a_post(client, applicant):
    client.force_login(applicant)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_home_for_anonymous_explains_the_services(client):
    html = client.get("/").content.decode()
    assert "信用报告查询" in html
    assert "决定文书验证" in html
    assert "/accounts/login/" in html
    assert "退出登录" not in html


def test_home_for_applicant_shows_the_subject_card(client, applicant, company):
    from notifications.models import Notification

    Notification.objects.create(
        recipient=applicant,
        event_key="k1",
        event="objection.accepted",
        title="您的异议已受理",
        body="-",
    )
    client.force_login(applicant)
    html = client.get("/").content.decode()
    assert company.name in html
    assert company.identifier_display in html
    assert f"/report/{company.identifier}/" in html
    assert "我的异议" in html
    assert "您的异议已受理" in html
    assert 'class="nav-badge"' in html  # one unread message
    assert "任务队列" not in html


@pytest.mark.parametrize("fixture", ["centre_user", "supervisor", "dept_samr"])
def test_home_for_staff_shows_queue_counts(client, request, fixture):
    user = request.getfixturevalue(fixture)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "待办任务" in html and "已逾期" in html
    assert "我的异议" not in html


def test_home_for_admin_links_to_admin_sections(client, db):
    admin = UserFactory(username="root", administrator=True)
    client.force_login(admin)
    html = client.get("/").content.decode()
    assert "政策参数" in html and "工作日历" in html and "信源单位" in html
    assert "/admin/" in html


def test_language_switch_to_english_changes_the_page_language(client):
    assert '<html lang="zh-hans">' in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()


def test_page_loads_no_external_resources(client):
    html = client.get("/").content.decode()
    assert "https://" not in html and "http://" not in html


def test_login_from_the_login_page_lands_on_home(client, applicant):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/login/?next=' not in page  # the header's 登录 carries no next
    r = client.post(
        "/accounts/login/?next=/accounts/login/",
        {"username": "applicant", "password": "demo-pass-2026"},
    )
    assert r.status_code == 302 and r["Location"] == "/"


def test_chinese_by_default_whatever_the_browser_says_and_a_choice_sticks(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in page
    assert 'lang="en"' in client.get("/verify/").content.decode()


@override_settings(DEBUG=False)
def test_own_error_pages_and_favicon(client):
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and 'id="error-404"' in r.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Page not found" in client.get("/no-such-page/").content.decode()
    assert client.get("/favicon.ico").status_code == 301
    from django.template.loader import render_to_string

    assert 'id="error-500"' in render_to_string("500.html")
