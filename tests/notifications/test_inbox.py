"""The in-app inbox over the API and as a page."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notifications.models import Notification
from tests.conftest import as_user

pytestmark = pytest.mark.django_db


def _note(user, title, *, minutes_ago=0, read=False, url=""):
    n = Notification.objects.create(
        recipient=user,
        event_key=f"k:{title}",
        event="test.event",
        title=title,
        body=f"{title} 的内容",
        case_kind="objection",
        case_id=3,
        url=url,
    )
    created = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    Notification.objects.filter(pk=n.pk).update(
        created_at=created, read_at=timezone.now() if read else None
    )
    return n


def test_inbox_api_lists_the_callers_notifications_newest_first(api, applicant, other_applicant):
    _note(applicant, "旧的", minutes_ago=30, read=True)
    _note(applicant, "新的", minutes_ago=1)
    _note(other_applicant, "别人的")
    r = as_user(api, applicant).get("/api/v1/notifications/")
    assert r.status_code == 200
    items = r.json()["results"]
    assert [i["title"] for i in items] == ["新的", "旧的"]
    assert [i["read"] for i in items] == [False, True]
    assert set(items[0]) >= {"id", "event", "title", "body", "case_kind", "case_id", "created_at"}
    unread = api.get("/api/v1/notifications/?unread=1").json()["results"]
    assert [i["title"] for i in unread] == ["新的"]


def test_marking_read_and_another_users_notification_is_not_found(api, applicant, other_applicant):
    mine = _note(applicant, "我的")
    theirs = _note(other_applicant, "别人的")
    client = as_user(api, applicant)
    r = client.post(f"/api/v1/notifications/{theirs.pk}/read/")
    assert r.status_code == 404 and "message" in r.json()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    r = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert r.status_code == 200 and r.json()["read"] is True
    _note(applicant, "再一条")
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert not Notification.objects.filter(recipient=applicant, read_at__isnull=True).exists()


def test_inbox_needs_a_login(api):
    assert api.get("/api/v1/notifications/").status_code in (401, 403)


def test_inbox_page_lists_and_marks_read(client, applicant):
    _note(applicant, "异议已受理：YY-1", url="/objections/3/")
    client.force_login(applicant)
    page = client.get("/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "异议已受理：YY-1" in html and "unread" in html
    n = Notification.objects.get()
    r = client.post(f"/inbox/{n.pk}/open/")
    assert r.status_code == 302 and r["Location"] == "/objections/3/"
    n.refresh_from_db()
    assert n.read_at is not None
    _note(applicant, "第二条")
    r = client.post("/inbox/read-all/")
    assert r.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_inbox_page_redirects_anonymous_users_to_login(client):
    r = client.get("/inbox/")
    assert r.status_code == 302 and "login" in r["Location"]
