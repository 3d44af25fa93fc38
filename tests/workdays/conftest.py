from __future__ import annotations

from datetime import datetime

import pytest

from tests.factories import UserFactory
from workflow_app.workdays import deadlines
from workflow_app.workdays.calendar import TZ, invalidate_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test sees the calendar of its own (rolled-back) database."""
    invalidate_cache()
    yield
    invalidate_cache()


@pytest.fixture
def recomputed(monkeypatch) -> list[list]:
    """Replace the registered listeners by one that records each call."""
    calls: list[list] = []
    monkeypatch.setattr(deadlines, "_listeners", [])
    deadlines.on_recomputed(lambda changed: calls.append(list(changed)))
    return calls


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", administrator=True)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)
