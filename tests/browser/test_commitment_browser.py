"""The commitment breach path in the system Chromium: applicant signs a notification commitment,
dept_samr suspects a breach, supervisor confirms, the public report shows the breach record."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from workflow_app.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"


def _login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _shot(page, name):
    page.screenshot(path=str(SHOTS / f"commitment-{name}.png"), full_page=True)


def test_commitment_breach_confirmed_end_to_end(browser_page, live_server):
    call_command("seed_demo", verbosity=0)
    page = browser_page
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    applicant = User.objects.get(username="applicant")

    _login(page, base, "applicant")
    page.goto(f"{base}/commitments/")
    page.click("text=签署新的承诺")
    page.select_option("select[name=kind]", "notification")
    page.select_option("select[name=department]", "SAMR")
    page.fill("input[name=matter_reference]", "SZ-SAMR-2026-0088")
    page.fill("input[name=matter_title]", "食品经营许可（告知承诺）")
    assert page.input_value("textarea[name=text]").strip()
    page.select_option("select[name=publicity]", "public")
    page.check("input[name=commitment_accepted]")
    _shot(page, "1-sign")
    page.click("#commitment-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-status=active]").count() == 1
    title = page.inner_text("h1")
    reference = title.split()[-1]
    assert reference.startswith("440300") and len(reference) == 20
    _shot(page, "2-signed")
    case_url = page.url

    _login(page, base, "dept_samr")
    page.goto(f"{base}/queue/")
    page.click(f"#queue-table a:has-text('{reference}')")
    page.check("input[name=decision][value=breach_suspected]")
    page.fill("textarea[name=reason]", "现场核查：未取得从业人员健康证明，不具备经营条件。")
    _shot(page, "3-verification")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()

    _login(page, base, "supervisor")
    page.goto(f"{base}/queue/?step=breach_review")
    page.click(f"#queue-table a:has-text('{reference}')")
    page.check("input[name=decision][value=confirm]")
    page.fill("textarea[name=reason]", "核查属实，确认违诺。")
    _shot(page, "4-review")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    page.goto(case_url)
    assert page.locator("[data-status=breach_confirmed]").count() == 1
    _shot(page, "5-confirmed")

    page.context.clear_cookies()
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    assert "违背信用承诺" in page.inner_text("#records")
    assert reference in page.inner_text("#commitments")
    _shot(page, "6-public-report")

    _login(page, base, "applicant")
    page.goto(f"{base}/commitments/new/")
    assert page.locator("#excluded").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "7-mobile-excluded")
