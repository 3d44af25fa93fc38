"""Commitment services. Approved repairs create their repair commitment through
:func:`commitment_create_for_repair`, called by the repair approval handler in ``processes`` in
the approval's transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow_app.cases.transitions import audit_case, save_case

from .models import Commitment, Kind, Publicity, Status

LIABILITY_REPAIR = _(
    "违背本承诺或所提交材料虚假的，撤销信用修复决定，相关失信信息恢复公示，并依法依规实施失信惩戒。"
)


def _reference(pk: int, now: Any) -> str:
    """Area code (6) + date (8) + serial (6), after the commitment data template in use on
    credit platforms."""
    return f"{settings.CREDIT_AREA_CODE}{timezone.localdate(now):%Y%m%d}{pk % 1_000_000:06d}"


def commitment_create_for_repair(*, repair: Any, by: Any) -> Commitment:
    """The repair commitment the applicant signed when filing becomes active on approval."""
    with transaction.atomic():
        existing = Commitment.objects.filter(repair_id=repair.pk).first()
        if existing is not None:
            return existing
        now = timezone.now()
        commitment = Commitment(
            reference=f"TMP-{now.timestamp()}-{repair.pk}",
            subject_id=repair.subject_id,
            signer_id=repair.applicant_id,
            kind=Kind.REPAIR,
            status=Status.ACTIVE,
            department_id=repair.record.department_id,
            matter_reference=repair.reference,
            matter_title=repair.record.title[:200],
            text=repair.commitment_text,
            liability=str(LIABILITY_REPAIR),
            publicity=Publicity.RESTRICTED,
            repair=repair,
            signed_at=repair.filed_at,
        )
        save_case(commitment, by=by, reason=f"repair {repair.reference} approved")
        commitment.reference = _reference(commitment.pk, now)
        commitment.save(update_fields=["reference"])
        audit_case(
            commitment,
            before="",
            by=by,
            msg="commitment.repair_activated",
            params={"repair": repair.reference},
        )
        return commitment
