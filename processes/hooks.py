"""What the report page offers the owner of each record (registered with the kernel's
``report_row_actions`` hook): the running case if there is one, otherwise the objection and
repair buttons — or, for a dishonesty record not yet repairable, the first date it will be."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from objections.selectors import objection_open_for_records
from repair.selectors import open_repairs_for_records, repairable_from


def report_actions(user: Any, records: Sequence[Any]) -> dict[int, list[dict[str, str]]]:
    if not records or getattr(user, "role", None) != "applicant" or not user.subject_id:
        return {}
    records = list(records)
    objections = objection_open_for_records(user.subject_id, records)
    repairs = open_repairs_for_records(user.subject_id, records)
    first_dates = repairable_from(records)
    today = timezone.localdate()
    new_objection = reverse("objection-new")
    new_repair = reverse("repair-new")
    out: dict[int, list[dict[str, str]]] = {}
    for r in records:
        actions: list[dict[str, str]] = []
        if r.pk in objections:
            o = objections[r.pk]
            actions.append(
                {
                    "label": _("异议办理中：%(ref)s") % {"ref": o.reference},
                    "url": reverse("objection-detail", args=[o.pk]),
                    "style": "link",
                }
            )
        elif not r.under_objection:
            actions.append(
                {
                    "label": _("提出异议"),
                    "url": f"{new_objection}?record={r.pk}",
                    "style": "primary",
                }
            )
        if r.pk in repairs:
            rep = repairs[r.pk]
            actions.append(
                {
                    "label": _("修复办理中：%(ref)s") % {"ref": rep.reference},
                    "url": reverse("repair-detail", args=[rep.pk]),
                    "style": "link",
                }
            )
        elif r.pk in first_dates:
            first = first_dates[r.pk]
            if first <= today:
                actions.append(
                    {
                        "label": _("申请信用修复"),
                        "url": f"{new_repair}?record={r.pk}",
                        "style": "primary",
                    }
                )
            else:
                actions.append(
                    {
                        "label": _("可于 %(date)s 起申请信用修复") % {"date": first.isoformat()},
                        "url": "",
                        "style": "note",
                    }
                )
        out[r.pk] = actions
    return out
