"""两书同达: when a department pushes a new dishonesty record, the subject's users receive, with
the penalty, the repair notice — which record, how to repair it, and the first day they may
apply. Registered with the registry's public-change hook; runs in the import's transaction and
reads the subjects' users in one query and writes the notices' outbox rows together."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.urls import NoReverseMatch, reverse

from notifications.services import Notice, notify_many
from workflow_app.accounts.models import User
from workflow_app.registry.bulk import where_in
from workflow_app.registry.models import Nature, RecordStatus
from workflow_app.workdays.policy import current_policy

from .eligibility import first_repairable_date


def repair_notice_on_new_records(
    *, records: list[Any], change: str, case: Any = None, by: Any = None
) -> None:
    if change != "created":
        return
    dishonest = [
        r for r in records if r.nature == Nature.DISHONESTY and r.status == RecordStatus.PUBLISHED
    ]
    if not dishonest:
        return
    users: dict[int, list[User]] = defaultdict(list)
    applicants = User.objects.filter(is_active=True, role="applicant").select_related("subject")
    for user in where_in(applicants, "subject_id", {r.subject_id for r in dishonest}):
        users[user.subject_id].append(user)  # type: ignore[index]
    if not users:
        return
    params = current_policy()[1]
    notices = []
    for record in dishonest:
        recipients = users.get(record.subject_id)
        if not recipients:
            continue
        # the subject as loaded with its users: an imported record carries only its id
        subject = recipients[0].subject
        try:
            url = reverse("report", args=[subject.identifier]) if subject else ""
        except NoReverseMatch:
            url = ""
        notices.append(
            Notice(
                event="record.dishonesty_notice",
                recipients=recipients,
                context={
                    "reference": record.external_id,
                    "record_title": record.title,
                    "department": record.department.code,
                    "decision_date": record.decision_date.isoformat(),
                    "severity": record.severity,
                    "first_date": first_repairable_date(record, params).isoformat(),
                },
                case_kind="record",
                case_id=record.pk,
                key=f"dishonesty-notice:{record.pk}",
                url=url,
                channels=("inapp", "email"),
            )
        )
    notify_many(notices)  # the batch's notices in a few statements, not two per record
