"""Every periodic sweep, in one place: the scheduler and ``run_sweeps`` call ``run_all``."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone

from notifications import services as notification_services
from sync.services import sync_sweep
from workflow_app.cases.evidence import evidence_remove_orphans

from . import services

logger = logging.getLogger(__name__)


def run_all(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    result = {
        # lapses first: a passed supplement period ends the case instead of escalating it
        **{f"{kind}_lapses": n for kind, n in services.cases_lapse_overdue(now).items()},
        **services.commitments_sweep(now),
        "reminders": notification_services.sweep_reminders(now=now),
        "escalations": notification_services.sweep_escalations(now=now),
        "redelivered": notification_services.redeliver_pending(),
        **sync_sweep(now),
        "evidence_orphans_removed": evidence_remove_orphans(),
    }
    logger.info("sweeps: %s", result)
    return result
