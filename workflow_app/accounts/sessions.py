"""The session engine: Django's database sessions, with the read every signed-in page makes
(the session by its key, not expired) compiled once (workflow_app/compiled.py) instead of
built by the ORM on each request (issue 10: the queue page)."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from workflow_app.compiled import CompiledQuery

_SESSION = CompiledQuery(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now)[:2],
    str,
    datetime.datetime,
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        if self.model is not Session:  # a subclass' own model: Django's read
            return super()._get_session_from_db()  # type: ignore[misc]
        try:
            return _SESSION.one(self.session_key, timezone.now())
        except (Session.DoesNotExist, SuspiciousOperation) as e:
            if isinstance(e, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{e.__class__.__name__}")
                logger.warning(str(e))
            self._session_key = None
            return None
