"""The objection path in the system Chromium: applicant files with a PDF, centre accepts and
forwards, dept_samr corrects the record, the applicant sees the result (screenshots saved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.processes.helpers import PDF_BYTES
from workflow_app.accounts.models import User
from workflow_app.registry.models import CreditRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"


def _login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _logout(page, base):
    page.context.clear_cookies()


def test_objection_modified_end_to_end(browser_page, live_server, tmp_path):
    call_command("seed_demo", verbosity=0)
    page = browser_page
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    applicant = User.objects.get(username="applicant")
    record = (
        CreditRecord.objects.filter(
            subject=applicant.subject,
            status="published",
            department__code="SAMR",
            nature="dishonesty",
        )
        .order_by("id")
        .first()
    )
    assert record is not None

    # applicant: report → object to the SAMR record with a PDF
    _login(page, base, "applicant")
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    page.click(f"a[href='/objections/new/?record={record.pk}']")
    page.select_option("select[name=grounds]", "error")
    page.fill("textarea[name=description]", "处罚金额登记有误，应为3000元。")
    pdf = tmp_path / "缴款凭证.pdf"
    pdf.write_bytes(PDF_BYTES)
    page.set_input_files("input[name=evidence]", str(pdf))
    page.check("input[name=commitment_accepted]")
    page.screenshot(path=str(SHOTS / "objection-1-form.png"), full_page=True)
    page.click("#objection-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-status=submitted]").count() == 1
    assert "缴款凭证.pdf" in page.content()
    page.screenshot(path=str(SHOTS / "objection-2-filed.png"), full_page=True)
    case_url = page.url
    _logout(page, base)

    # centre: queue → accept, then platform check → forward
    _login(page, base, "centre")
    page.goto(f"{base}/queue/")
    page.screenshot(path=str(SHOTS / "objection-3-queue.png"), full_page=True)
    page.click("#queue-table a.btn")
    page.check("input[name=decision][value=accept]")
    page.screenshot(path=str(SHOTS / "objection-4-intake.png"), full_page=True)
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    assert "已办理" in page.content()  # lands on the case, which says what was decided
    page.goto(f"{base}/queue/")
    page.click("#queue-table a.btn")
    page.check("input[name=decision][value=forward]")
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    _logout(page, base)

    # dept_samr: verification → resolve, modified
    _login(page, base, "dept_samr")
    page.goto(f"{base}/queue/")
    page.click("#queue-table a.btn")
    page.check("input[name=decision][value=resolve]")
    page.select_option("select[name=outcome]", "modified")
    page.fill("textarea[name=content]", "罚款人民币3000元（经核查更正）。")
    page.fill("textarea[name=reason]", "经核查，原登记金额有误，予以更正。")
    page.screenshot(path=str(SHOTS / "objection-5-verification.png"), full_page=True)
    page.click(".decision-form button[type=submit]")
    page.wait_for_load_state()
    _logout(page, base)

    # applicant: sees the result, the corrected record and the notifications
    _login(page, base, "applicant")
    page.goto(case_url)
    assert page.locator("[data-status=resolved]").count() == 1
    assert "罚款人民币3000元（经核查更正）。" in page.content()
    page.screenshot(path=str(SHOTS / "objection-6-result.png"), full_page=True)
    page.goto(f"{base}/report/{applicant.subject.identifier}/")
    # the report lists the corrected version once (the replaced one is hidden), without the mark
    report = page.content()
    assert report.count(record.title) == 1
    assert "异议处理中" not in report
    page.screenshot(path=str(SHOTS / "objection-7-report.png"), full_page=True)
    page.goto(f"{base}/inbox/")
    content = page.content()
    assert "异议已办结" in content and "异议已受理" in content
    page.screenshot(path=str(SHOTS / "objection-8-inbox.png"), full_page=True)
