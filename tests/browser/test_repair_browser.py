"""The repair path in the system Chromium: applicant files with a PDF from the report, centre
routes, dept_samr approves, the applicant sees the record gone and the decision in force."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from repair.eligibility import first_repairable_date
from tests.processes.helpers import PDF_BYTES
from workflow_app.accounts.models import User
from workflow_app.registry.models import CreditRecord
from workflow_app.workdays.policy import DEFAULTS

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
    page.screenshot(path=str(SHOTS / f"repair-{name}.png"), full_page=True)


def _decide(page, base, decision, reason=""):
    page.goto(f"{base}/queue/")
    page.click("#queue-table a.btn")
    page.check(f"input[name=decision][value={decision}]")
    if reason:
        page.fill("textarea[name=reason]", reason)


def test_repair_approved_end_to_end(browser_page, live_server, tmp_path):
    call_command("seed_demo", verbosity=0)
    page = browser_page
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    applicant = User.objects.get(username="applicant")
    today = timezone.localdate()
    record = next(
        r
        for r in CreditRecord.objects.filter(
            subject=applicant.subject,
            status="published",
            nature="dishonesty",
            department__code="SAMR",
        ).order_by("id")
        if first_repairable_date(r, DEFAULTS) <= today
    )

    # applicant: report → apply for repair with a proof PDF and the prefilled commitment
    _login(page, base, "applicant")
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    _shot(page, "1-report")
    page.click(f"a[href='/repairs/new/?record={record.pk}']")
    assert page.locator("#eligibility li.ok").count() >= 5
    assert page.input_value("textarea[name=commitment_text]").strip()
    page.fill("textarea[name=correction_statement]", "罚款已于2026年11月缴清，已完成整改。")
    pdf = tmp_path / "缴款凭证.pdf"
    pdf.write_bytes(PDF_BYTES)
    page.set_input_files("input[name=evidence]", str(pdf))
    page.check("input[name=commitment_accepted]")
    _shot(page, "2-form")
    page.click("#repair-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-status=submitted]").count() == 1
    assert "缴款凭证.pdf" in page.content()
    _shot(page, "3-filed")
    case_url = page.url

    # centre: route to the determining department
    _login(page, base, "centre")
    _decide(page, base, "route")
    _shot(page, "4-intake")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()

    # dept_samr: approve
    _login(page, base, "dept_samr")
    _decide(page, base, "approve", "整改到位，准予修复。")
    assert "缴款凭证.pdf" in page.content() and page.locator(".checklist li").count() >= 5
    _shot(page, "5-decision")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()

    # applicant: the record is gone from the report; the decision verifies as in force
    _login(page, base, "applicant")
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    assert page.locator(f"#record-{record.pk}").count() == 0
    _shot(page, "6-report-after")
    page.goto(case_url)
    assert page.locator("[data-status=approved]").count() == 1
    code = page.inner_text("#verification-code").strip()
    _shot(page, "7-approved")
    page.goto(f"{base}/verify/{code}/")
    assert "有效" in page.inner_text("#verify-status")
    _shot(page, "8-verify")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/repairs/new/?record={record.pk}")
    _shot(page, "9-mobile-form-refused")
