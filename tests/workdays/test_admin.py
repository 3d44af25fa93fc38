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


def test_admin_adds_a_policy_version_from_json(admin_client):
    page = admin_client.get("/admin/workdays/policyversion/add/")
    assert page.status_code == 200
    assert "objection_verification_days" in page.content.decode()

    response = admin_client.post(
        "/admin/workdays/policyversion/add/",
        {
            "effective_from_0": "2026-01-01",
            "effective_from_1": "00:00:00",
            "note": "调整核查期限",
            "changes": '{"objection_verification_days": 15}',
        },
    )

    assert response.status_code == 302
    version_id, params = current_policy()
    assert version_id == PolicyVersion.objects.get().pk
    assert params["objection_verification_days"] == 15
    detail = admin_client.get(f"/admin/workdays/policyversion/{version_id}/change/")
    assert detail.status_code == 200


def test_admin_policy_form_refuses_an_unknown_parameter(admin_client):
    response = admin_client.post(
        "/admin/workdays/policyversion/add/",
        {
            "effective_from_0": "2026-01-01",
            "effective_from_1": "00:00:00",
            "note": "错误",
            "changes": '{"no_such_parameter": 1}',
        },
    )
    assert response.status_code == 200
    assert "no_such_parameter" in response.content.decode()
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
