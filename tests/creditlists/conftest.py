from __future__ import annotations

import datetime

import pytest

from tests.factories import UserFactory
from workflow_app.workdays.calendar import invalidate_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test sees the calendar of its own (rolled-back) database."""
    invalidate_cache()
    yield
    invalidate_cache()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", administrator=True)


JOINED = datetime.date(2025, 6, 6)


def join(subject, user, *, list_type="black", joined_on=JOINED, reference="深市监信〔2025〕1号"):
    from creditlists.services import list_join

    return list_join(
        subject=subject,
        list_type=list_type,
        department=user.department,
        reason="因严重违法失信行为被列入。",
        decision_reference=reference,
        joined_on=joined_on,
        by=user,
    )
