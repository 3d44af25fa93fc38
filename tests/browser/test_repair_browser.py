"""The repair path in the system Chromium: the applicant applies from the report row's
"申请信用修复" button with a proof PDF and the prefilled commitment, centre routes (修复受理),
dept_samr approves (修复决定), the applicant sees the record gone and the decision in force.
Screenshots go to artefacts/screenshots/repair-*.png (desktop and 390x844 mobile)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from repair.models import Repair
from tests.processes.helpers import PDF_BYTES
from workflow_app.accounts.models import User
from workflow_app.registry.models import CreditRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
MOBILE = {"width": 390, "height": 844}


def _login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"login as {username} failed"


def _shot(page, name):
    page.screenshot(path=str(SHOTS / f"repair-{name}.png"), full_page=True)


def _mobile_shot(page, name):
    page.set_viewport_size(MOBILE)
    _shot(page, name)
    page.set_viewport_size(DESKTOP)


def _open_task(page, base, reference, step_label):
    """Open the queue and the task of this case at this step (the queue may hold other cases)."""
    page.goto(f"{base}/queue/")
    row = page.locator("#queue-table tbody tr", has_text=reference).filter(has_text=step_label)
    assert row.count() == 1, f"no {step_label} task for {reference} in the queue"
    return row


def test_repair_approved_end_to_end(browser_page, live_server, tmp_path):
    call_command("seed_demo", verbosity=0)
    page = browser_page
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    applicant = User.objects.get(username="applicant")
    samr_dishonesty = set(
        CreditRecord.objects.filter(
            subject=applicant.subject,
            status="published",
            nature="dishonesty",
            department__code="SAMR",
        ).values_list("pk", flat=True)
    )
    assert samr_dishonesty, "seed_demo should publish a SAMR dishonesty record for the applicant"

    # 1. applicant: report → the row offering "申请信用修复" → form → submit
    _login(page, base, "applicant")
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    buttons = page.locator("#records a.btn", has_text="申请信用修复")
    offered = [
        int(re.search(r"record=(\d+)", buttons.nth(i).get_attribute("href")).group(1))
        for i in range(buttons.count())
    ]
    candidates = [pk for pk in offered if pk in samr_dishonesty]
    assert candidates, f"no SAMR dishonesty row offers 申请信用修复 (offered: {offered})"
    record = CreditRecord.objects.get(pk=candidates[0])
    assert page.locator(f"#record-{record.pk}").count() == 1
    _shot(page, "1-report")

    page.click(f"#record-{record.pk} a[href='/repairs/new/?record={record.pk}']")
    page.wait_for_load_state()
    assert page.url.endswith(f"/repairs/new/?record={record.pk}")
    assert page.locator("#eligibility li").count() >= 1
    assert page.locator("#eligibility li.fail").count() == 0
    assert record.title in page.content()
    assert page.input_value("textarea[name=commitment_text]").strip(), "commitment not prefilled"
    page.fill("textarea[name=correction_statement]", "罚款已于2026年11月缴清，违法行为已整改完毕。")
    pdf = tmp_path / "缴款凭证.pdf"
    pdf.write_bytes(PDF_BYTES)
    page.set_input_files("input[name=evidence]", str(pdf))
    page.check("input[name=commitment_accepted]")
    _shot(page, "2-form")
    _mobile_shot(page, "2m-form-mobile")
    page.click("#repair-form button[type=submit]")
    page.wait_for_load_state()
    assert re.search(r"/repairs/\d+/$", page.url), f"did not land on the repair: {page.url}"
    status = page.locator("[data-status]").first
    assert status.get_attribute("data-status") == "submitted"
    assert "已提交" in status.inner_text()
    assert "缴款凭证.pdf" in page.content()
    repair = Repair.objects.get(pk=int(re.search(r"/repairs/(\d+)/$", page.url).group(1)))
    reference = repair.reference
    assert reference in page.content()
    _shot(page, "3-filed")
    case_url = page.url

    # 2. centre: queue → 修复受理 → route
    _login(page, base, "centre")
    row = _open_task(page, base, reference, "修复受理")
    _shot(page, "4-queue")
    row.locator("a.btn").click()
    page.wait_for_load_state()
    assert "修复受理" in page.inner_text("h1")
    page.check("input[name=decision][value=route]")
    _shot(page, "5-intake")
    _mobile_shot(page, "5m-intake-mobile")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".alert-error").count() == 0, page.inner_text("main")

    # 3. dept_samr: queue → 修复决定 → sees record, eligibility, evidence → approve
    _login(page, base, "dept_samr")
    row = _open_task(page, base, reference, "修复决定")
    row.locator("a.btn").click()
    page.wait_for_load_state()
    assert "修复决定" in page.inner_text("h1")
    assert record.title in page.content()
    assert page.locator(".checklist li").count() >= 1
    evidence = page.locator("a", has_text="缴款凭证.pdf")
    assert evidence.count() == 1
    assert "/evidence/" in evidence.get_attribute("href")
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=reason]", "罚款已缴清，整改到位，准予修复。")
    _shot(page, "6-decision")
    _mobile_shot(page, "6m-decision-mobile")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".alert-error").count() == 0, page.inner_text("main")

    # 4. applicant: the record is gone from the report; the decision verifies as in force
    _login(page, base, "applicant")
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    assert page.locator(f"#record-{record.pk}").count() == 0
    _shot(page, "7-report-after")
    page.goto(case_url)
    status = page.locator("[data-status]").first
    assert status.get_attribute("data-status") == "approved"
    assert "准予修复" in status.inner_text()
    code = page.inner_text("#verification-code").strip()
    assert code
    _shot(page, "8-approved")
    page.goto(f"{base}/verify/{code}/")
    assert "有效" in page.inner_text("#verify-status")
    _shot(page, "9-verify")
