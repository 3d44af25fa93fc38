"""Every role walks its pages in Chromium, on a desktop and a 390×844 phone: each page answers
200 with the project's layout, nothing overflows sideways, and a screenshot is kept for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from workflow_app.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"


def _login(page, base, username):
    page.context.clear_cookies()
    if username:
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo-pass-2026")
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def test_every_role_walks_its_pages(browser_page, live_server):
    call_command("seed_demo", verbosity=0)
    page = browser_page
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    identifier = User.objects.get(username="applicant").subject.identifier
    walks = {
        "": ["/", "/report/", f"/report/{identifier}/", "/verify/", "/accounts/login/"],
        "applicant": [
            "/",
            f"/report/{identifier}/",
            "/objections/",
            "/repairs/",
            "/commitments/",
            "/commitments/new/",
            "/inbox/",
        ],
        "centre": ["/", "/queue/", "/objections/", "/repairs/", "/commitments/", "/credit-check/"],
        "dept_samr": ["/", "/queue/", "/repairs/", "/commitments/", "/credit-check/"],
        "supervisor": ["/", "/queue/", "/random-checks/", "/commitments/"],
        "admin": [
            "/",
            "/admin/",
            "/admin/workdays/policyversion/add/",
            "/admin/workdays/calendaryear/",
        ],
    }
    for width, height, tag in ((1280, 860, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        for user, urls in walks.items():
            _login(page, base, user)
            for url in urls:
                response = page.goto(f"{base}{url}")
                assert response is not None and response.status == 200, (user, url, tag)
                assert page.locator("#error-500, #error-404").count() == 0
                if not url.startswith("/admin/"):
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                    )
                    assert overflow <= 2, (user, url, tag, overflow)
                name = (user or "public") + url.replace("/", "_").rstrip("_")
                page.screenshot(path=str(SHOTS / f"walk-{tag}-{name}.png"), full_page=True)
