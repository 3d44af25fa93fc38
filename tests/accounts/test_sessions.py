"""The session engine (workflow_app.accounts.sessions): Django's database sessions, their read
compiled once — a signed-in session is read as Django reads it, an expired or unknown one is
nobody's, and the read's SQL is the same on every request."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_engine_is_ours():
    assert settings.SESSION_ENGINE == "workflow_app.accounts.sessions"


def test_a_signed_in_session_is_read_and_an_expired_one_is_nobodys(centre_user):
    web = Client()
    web.force_login(centre_user)
    reads = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as q:
            assert web.get("/queue/").status_code == 200
        reads += [x["sql"] for x in q.captured_queries if '"django_session"' in x["sql"]]
    # one read a request, the same statement (its values aside)
    shapes = {re.sub(r"'[^']*'", "?", sql) for sql in reads}
    assert len(reads) == 2 and len(shapes) == 1
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    r = web.get("/queue/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_an_unknown_session_key_is_nobodys():
    web = Client()
    web.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    r = web.get("/queue/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_the_unread_badge_counts_only_the_readers_unread_messages(applicant, centre_user):
    """The navigation's unread count (compiled once: notifications.context_processors): the
    reader's own unread messages; none, no badge."""
    from notifications.models import Notification

    def inbox(user, n, read=False):
        for i in range(n):
            Notification.objects.create(
                recipient=user,
                event_key=f"k{user.pk}-{i}-{read}",
                event="test",
                title="t",
                body="b",
                read_at=timezone.now() if read else None,
            )

    web = Client()
    web.force_login(applicant)
    assert 'class="nav-badge"' not in web.get("/").content.decode()
    inbox(applicant, 3)
    inbox(applicant, 2, read=True)
    inbox(centre_user, 4)
    page = web.get("/").content.decode()
    assert 'class="nav-badge" aria-label="3 条未读">3</span>' in page


def test_the_session_user_is_read_through_the_compiled_get(applicant, django_assert_num_queries):
    """``User.objects.get(pk=…)`` — Django's ModelBackend reads the signed-in user with it on
    every request — goes through a query compiled once: the same row and instance, the same
    errors; other lookups are the ORM's."""
    from django.db.models.query import QuerySet

    from tests.factories import SubjectFactory, UserFactory
    from workflow_app.accounts.models import User

    with django_assert_num_queries(1):
        found = User.objects.get(pk=applicant.pk)
    assert type(found) is User and found.pk == applicant.pk
    assert {f.attname: getattr(found, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(applicant, f.attname) for f in User._meta.concrete_fields
    }
    assert found._state.db == "default" and not found._state.adding
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=applicant.pk + 10_000)
    with pytest.raises(User.DoesNotExist):
        User.objects.get(id=2**63)  # beyond the column: no row, as the ORM answers
    assert User.objects.get(username=applicant.username) == applicant  # the ORM's own get
    assert User.objects.get(pk=str(applicant.pk)) == applicant  # not an int: the ORM's
    # a related manager filters its rows: another subject's user is not found through it
    other = UserFactory(subject=SubjectFactory())
    with pytest.raises(User.DoesNotExist):
        applicant.subject.users.get(pk=other.pk)
    assert applicant.subject.users.get(pk=applicant.pk) == applicant
    calls = []
    real = QuerySet.get

    def counted(self, *args, **kwargs):
        calls.append(kwargs)
        return real(self, *args, **kwargs)

    QuerySet.get = counted
    try:
        web = Client()
        web.force_login(applicant)
        assert web.get("/").status_code == 200
    finally:
        QuerySet.get = real
    assert {"pk": applicant.pk} not in calls  # the session's user: not through the ORM's get
