"""The administrator maintains the calendar and the policy in the Django admin."""

from __future__ import annotations

from datetime import date

import pytest

from tests.workdays.conftest import local
from workflow_app.workdays.calendar import is_working_day
from workflow_app.workdays.deadlines import deadline_open
from workflow_app.workdays.models import CalendarDay, PolicyVersion
from workflow_app.workdays.policy import current_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_adds_a_local_holiday_and_it_applies_at_once(admin_client, admin_user):
    assert is_working_day(date(2026, 3, 10))

    response = admin_client.post(
        "/admin/workdays/calendarday/add/",
        {"date": "2026-03-10", "kind": "holiday", "note": "本地停工"},
    )

    assert response.status_code == 302
    assert not is_working_day(date(2026, 3, 10))
    record = CalendarDay.objects.get().history.get()
    assert record.history_user == admin_user


def _policy_post(**changes):
    """The add form as an administrator submits it: every field prefilled, some changed."""
    from workflow_app.workdays.admin import _param_fields

    data = {"effective_from_0": "2026-01-01", "effective_from_1": "00:00:00", "note": "调整"}
    for name, _key, field in _param_fields():
        value = changes.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value)
    return data


def test_admin_edits_the_policy_one_field_per_parameter(admin_client):
    page = admin_client.get("/admin/workdays/policyversion/add/").content.decode()
    assert 'name="p__objection_verification_days"' in page
    assert 'name="p__repair_min_publicity_months__general"' in page
    assert "个工作日" in page and "Guangzhou objection guide" in page  # unit and source

    response = admin_client.post(
        "/admin/workdays/policyversion/add/",
        _policy_post(p__objection_verification_days=15, p__repair_min_publicity_months__general=6),
    )

    assert response.status_code == 302
    version_id, params = current_policy()
    assert version_id == PolicyVersion.objects.get().pk
    assert params["objection_verification_days"] == 15
    assert params["repair_min_publicity_months"] == {"minor": 0, "general": 6, "serious": 12}
    detail = admin_client.get(f"/admin/workdays/policyversion/{version_id}/change/")
    assert detail.status_code == 200


def test_admin_policy_form_refuses_a_wrong_value(admin_client):
    response = admin_client.post(
        "/admin/workdays/policyversion/add/", _policy_post(p__objection_verification_days=0)
    )
    assert response.status_code == 200
    assert "objection_verification_days" in response.content.decode()
    assert not PolicyVersion.objects.exists()


def test_admin_shows_deadlines_read_only_with_their_explanation(admin_client):
    d = deadline_open(
        case_kind="objection",
        case_id=1,
        case_reference="YY-1",
        kind="objection_intake",
        start_at=local(2026, 2, 12, 10),
        amount=3,
    )
    assert admin_client.get("/admin/workdays/deadline/").status_code == 200
    page = admin_client.get(f"/admin/workdays/deadline/{d.pk}/change/")
    assert page.status_code == 200
    assert "2026-02-24 23:59:59" in page.content.decode()
