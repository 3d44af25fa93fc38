"""The web shell in a real browser: log in, open the company's report from home, open the inbox."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base: str, username: str, password: str = "demo-pass-2026") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].btn-primary")
    page.wait_for_load_state("networkidle")


def test_applicant_logs_in_opens_report_and_inbox(live_server, page, screenshot):
    # given the demo data
    call_command("seed_demo")
    base = live_server.url

    # the public landing page
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_text("信用业务协同系统").first.is_visible()
    screenshot("foundation-landing")

    # a wrong password is refused with a clear message
    _login(page, base, "applicant", "wrong-password")
    assert page.locator("#login-error").is_visible()
    assert "用户名或密码错误" in page.locator("#login-error").inner_text()
    screenshot("foundation-login-error")

    # when the applicant logs in
    _login(page, base, "applicant")

    # then home shows their enterprise
    card = page.locator("#subject-card")
    assert "深圳市坪山示例科技有限公司" in card.inner_text()
    assert "BB" in card.inner_text()
    assert page.get_by_role("link", name="我的异议").first.is_visible()
    screenshot("foundation-home-applicant")

    # when they open their report from the home page
    page.click("#my-report-link")
    page.wait_for_load_state("networkidle")
    assert "/report/" in page.url
    assert page.get_by_text("深圳市坪山示例科技有限公司").first.is_visible()
    assert page.get_by_text("深市监坪罚〔示例〕1号").first.is_visible()
    screenshot("foundation-report")

    # when they open the inbox
    page.locator(".site-nav a", has_text="消息").click()
    page.wait_for_load_state("networkidle")
    heading = page.locator("main h1").first
    assert heading.is_visible()
    assert "消息" in heading.inner_text() or "消息" in page.title()
    screenshot("foundation-inbox")


def test_caseworker_sees_the_workbench_and_switches_to_english(live_server, page, screenshot):
    call_command("seed_demo")
    base = live_server.url
    _login(page, base, "centre")
    assert page.locator("#queue-counts").is_visible()
    assert page.get_by_role("link", name="任务队列").first.is_visible()
    screenshot("foundation-home-centre")

    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot("foundation-home-centre-en")
