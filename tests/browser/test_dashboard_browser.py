"""The supervisors' dashboard in the system Chromium: the supervisor sees the overdue objection in
the figures and the chart, follows the figure to the list of steps behind it and on to the case;
a department caseworker sees the same page for their own department only. Screenshots go to
artefacts/screenshots/dashboard-*.png (desktop and 390x844 mobile)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.processes.helpers import complete, file_objection, open_task
from workflow_app.accounts.models import User
from workflow_app.registry.models import CreditRecord
from workflow_app.workdays.models import Deadline

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


def _no_horizontal_overflow(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"


def test_dashboard_figures_lead_to_the_cases(browser_page, live_server):
    call_command("seed_demo", verbosity=0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, base = browser_page, live_server.url
    applicant = User.objects.get(username="applicant")
    centre = User.objects.get(username="centre")
    records = list(
        CreditRecord.objects.filter(subject=applicant.subject, status="published").order_by("pk")
    )
    late = file_objection(applicant, records[0])
    fresh = file_objection(applicant, records[1])
    complete(centre, open_task(fresh["id"], "objection_intake"), decision="accept")
    # the first objection's intake deadline passed eight days ago
    past = timezone.now() - datetime.timedelta(days=8)
    Deadline.objects.filter(case_kind="objection", case_id=late["id"], status="open").update(
        due_at=past, remind_at=past - datetime.timedelta(days=1)
    )

    _login(page, base, "supervisor")
    page.goto(f"{base}/")
    page.click("#home-dashboard a")
    page.wait_for_load_state()
    assert page.url.startswith(f"{base}/dashboard/")
    row = page.locator("#workflow-table tr[data-kind=objection]")
    assert row.locator("td").nth(1).inner_text().strip() == "1"  # overdue
    assert page.locator("#age-chart svg rect").count() >= 1
    assert page.locator("#oldest-overdue", has_text=late["reference"]).count() == 1
    page.screenshot(path=str(SHOTS / "dashboard-supervisor.png"), full_page=True)

    row.locator("td").nth(1).locator("a").click()
    page.wait_for_load_state()
    assert "/dashboard/steps/" in page.url
    table = page.locator("#steps-table")
    assert table.locator("tbody tr", has_text=late["reference"]).count() == 1
    assert table.locator("tbody tr", has_text=fresh["reference"]).count() == 0
    page.screenshot(path=str(SHOTS / "dashboard-steps.png"), full_page=True)
    table.locator("a", has_text=late["reference"]).click()
    page.wait_for_load_state()
    assert f"/objections/{late['id']}/" in page.url

    # a bad date answers on the page, with the form kept
    page.goto(f"{base}/dashboard/?date_from=2026-02-30")
    assert "YYYY-MM-DD" in page.locator("#filter-error").inner_text()

    page.set_viewport_size(MOBILE)
    page.goto(f"{base}/dashboard/")
    _no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "dashboard-supervisor-mobile.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    dept_user = User.objects.filter(role="department", department__isnull=False).first()
    _login(page, base, dept_user.username)
    page.goto(f"{base}/dashboard/")
    assert page.locator("select[name=department]").count() == 0
    codes = set(
        page.locator("#department-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.department).filter(Boolean)"
        )
    )
    assert codes <= {dept_user.department.code}
    page.screenshot(path=str(SHOTS / "dashboard-department.png"), full_page=True)
