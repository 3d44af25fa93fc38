"""``{% site_nav %}`` (workflow_app/accounts/templatetags/navigation.py): the navigation is
rendered once per reader's kind, language, current page and unread count, and kept — each
reader still sees their own links, current page and badge, and nothing of another reader."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import UserFactory
from workflow_app.accounts.templatetags import navigation

pytestmark = pytest.mark.django_db


def _nav(client: Client, path: str) -> str:
    html = client.get(path).content.decode()
    return re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)


def _web(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def renders(monkeypatch):
    """How many times the partial is rendered."""
    calls = []
    real = navigation.render_to_string

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(navigation, "render_to_string", counted)
    navigation._kept.clear()
    return calls


def test_each_kind_of_reader_sees_their_links(applicant, centre_user, supervisor, renders):
    anonymous = _nav(Client(), "/lists/red/")
    assert (
        "信用报告查询" in anonymous and "任务队列" not in anonymous and "我的异议" not in anonymous
    )
    assert 'href="/lists/red/" class="active" aria-current="page"' in anonymous
    mine = _nav(_web(applicant), "/objections/")
    assert "我的异议" in mine and "任务队列" not in mine and "异议案件" not in mine
    assert 'href="/objections/" class="active" aria-current="page">我的异议' in mine
    staff = _nav(_web(centre_user), "/queue/")
    assert "异议案件" in staff and "我的异议" not in staff and "双随机抽查" not in staff
    assert 'href="/queue/" class="active" aria-current="page"' in staff
    assert "双随机抽查" in _nav(_web(supervisor), "/queue/")
    # a page outside the navigation marks no link current
    assert "aria-current" not in _nav(_web(applicant), f"/report/{applicant.subject.identifier}/")
    # the partial is given the reader's kind, never the reader
    for context in renders:
        assert not hasattr(context["user"], "username") and not hasattr(context["user"], "pk")


def test_kept_once_per_kind_language_page_and_badge(applicant, renders):
    from notifications.models import Notification

    other = UserFactory(role=applicant.role, subject=applicant.subject)
    first, second = _web(applicant), _web(other)
    page = first.get("/objections/").content.decode()
    assert second.get("/objections/").content.decode() != page  # their own name in the header
    assert _nav(first, "/objections/") == _nav(second, "/objections/")
    assert len(renders) == 1  # one reader kind, one language, one page, nothing unread
    Notification.objects.create(
        recipient=applicant, event_key="k", event="test", title="t", body="b"
    )
    badge = _nav(first, "/objections/")
    assert 'class="nav-badge" aria-label="1 条未读">1</span>' in badge
    assert "nav-badge" not in _nav(second, "/objections/")  # the other reader's count: none
    second.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = _nav(second, "/objections/")
    assert "My objections" in english and "我的异议" not in english
    assert len(renders) == 3
