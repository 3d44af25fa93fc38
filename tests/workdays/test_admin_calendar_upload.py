"""Administrators upload a year's calendar as CSV in the admin, with the command's validation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from workflow_app.workdays.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db


def test_upload_loads_the_year_and_bad_lines_load_nothing(admin_client):
    page = admin_client.get("/admin/workdays/calendaryear/")
    assert "导入日历 CSV" in page.content.decode()
    bad = SimpleUploadedFile("2027.csv", b"date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n")
    r = admin_client.post("/admin/workdays/calendaryear/upload/", {"file": bad})
    assert r.status_code == 200 and "第 3 行" in r.content.decode()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    good = SimpleUploadedFile(
        "2027.csv", b"date,kind\n2027-01-01,holiday\n2027-02-06,holiday\n2027-02-14,workday\n"
    )
    r = admin_client.post(
        "/admin/workdays/calendaryear/upload/", {"file": good, "source": "国办发明电"}, follow=True
    )
    assert "已导入 2027 年日历" in r.content.decode()
    assert CalendarYear.objects.filter(year=2027).exists()
    assert CalendarDay.objects.filter(date__year=2027).count() == 3


def test_admin_pages_warn_about_years_without_a_calendar(admin_client, monkeypatch):
    import datetime

    from workflow_app.workdays import checks

    monkeypatch.setattr(checks, "_today", lambda: datetime.date(2026, 12, 15))
    page = admin_client.get("/admin/").content.decode()
    assert 'id="calendar-warning"' in page and "2027" in page
    monkeypatch.setattr(checks, "_today", lambda: datetime.date(2026, 6, 15))
    assert 'id="calendar-warning"' not in admin_client.get("/admin/").content.decode()
