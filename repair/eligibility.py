"""Eligibility of a repair application (SPEC §6): every rule evaluated, each with its reason.

The same evaluation serves filing (all failures refused at once, nothing stored), the read-only
``GET /api/v1/records/{id}/repair-eligibility/`` and the report page ("可于 2026-03-05 起申请").

Minimum publicity, 民法典 Art. 201–203
--------------------------------------
A record decided on day D with a minimum publicity of N months: the period starts counting on
D + 1 (Art. 201), and ends on the same-numbered day of the N-th month after D, or on that month's
last day when it has no such day (Art. 202). The period has passed once its last day is over, so
the **first day an application is accepted is the day after that last day**.

Example (general, 3 months): decided 2025-11-30 → the period's last day is 2026-02-28 (February
has no 30th) → repairable from **2026-03-01**. 2026-02-27 and 2026-02-28 are refused, 2026-03-01
and 2026-03-02 accepted. Art. 203 (a period ending on a rest day runs to the next working day)
protects whoever must *act* by the end of a period; here the period is one the applicant must
*wait out*, and rolling it forward would hold their application back for no one's benefit, so
it is not applied (2026-02-28 is a Saturday; the online application is accepted on Sunday
2026-03-01). Minor records have no minimum period: repairable at once.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow_app.registry.models import CreditRecord, Nature, RecordStatus
from workflow_app.workdays.calendar import months_later

RULES = (
    "not_own_record",
    "not_published",
    "not_dishonesty",
    "category_not_repairable",
    "minimum_publicity",
    "objection_open",
    "repair_open",
    "repeat_window",
    "proof_missing",
    "commitment_missing",
)


RULE_LABELS = {
    "not_own_record": gettext_lazy("本企业的信息"),
    "not_published": gettext_lazy("信息在公示中"),
    "not_dishonesty": gettext_lazy("属于失信信息"),
    "category_not_repairable": gettext_lazy("类别可修复"),
    "minimum_publicity": gettext_lazy("已满最短公示期"),
    "objection_open": gettext_lazy("无正在处理的异议"),
    "repair_open": gettext_lazy("无正在办理的修复申请"),
    "repeat_window": gettext_lazy("不在重复修复限制期内"),
    "proof_missing": gettext_lazy("已上传纠正失信行为的证明材料"),
    "commitment_missing": gettext_lazy("已签署信用修复承诺"),
}


def with_labels(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored results plus each rule's label in the reader's language."""
    return [{**r, "label": str(RULE_LABELS.get(r["rule"], r["rule"]))} for r in results]


@dataclass
class RuleResult:
    rule: str
    ok: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(RULE_LABELS.get(self.rule, self.rule))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def minimum_publicity_end(record: CreditRecord, params: dict[str, Any]) -> datetime.date | None:
    """The last day of the record's minimum publicity period; ``None`` when it has none."""
    months = int(params["repair_min_publicity_months"].get(record.severity or "general", 0))
    if months <= 0:
        return None
    return months_later(record.decision_date, months)


def first_repairable_date(record: CreditRecord, params: dict[str, Any]) -> datetime.date:
    end = minimum_publicity_end(record, params)
    if end is None:
        return record.decision_date
    return end + datetime.timedelta(days=1)


def maximum_publicity_end(record: CreditRecord, params: dict[str, Any]) -> datetime.date:
    months = int(params["max_publicity_months"].get(record.severity or "general", 12))
    return months_later(record.decision_date, months)


def evaluate(
    *,
    subject_id: int | None,
    record: CreditRecord | None,
    params: dict[str, Any],
    proof_count: int | None = None,
    commitment_accepted: bool | None = None,
    today: datetime.date | None = None,
    open_objection: str | None = None,
    open_repair: str | None = None,
    last_approval: tuple[str, datetime.datetime] | None = None,
) -> list[RuleResult]:
    """Every rule, pass or fail. ``proof_count``/``commitment_accepted`` of ``None`` leave those
    rules out (the read-only check, before anything is attached). Facts about other cases
    (``open_objection``, ``open_repair``, ``last_approval``) are passed in by the caller's
    selectors, so this module reads nothing itself and is cheap to test."""
    today = today or timezone.localdate()
    results: list[RuleResult] = []
    own = record is not None and subject_id is not None and record.subject_id == subject_id
    results.append(
        RuleResult(
            "not_own_record",
            own,
            "" if own else _("未找到该信用信息，或它不属于您的企业；请从本企业的信用报告中选择。"),
        )
    )
    if own:
        assert record is not None
        published = record.status == RecordStatus.PUBLISHED
        results.append(
            RuleResult(
                "not_published",
                published,
                ""
                if published
                else _("该信息当前状态为“%(status)s”，只有公示中的信息才需要修复。")
                % {"status": record.get_status_display()},
            )
        )
        dishonest = record.nature == Nature.DISHONESTY
        results.append(
            RuleResult(
                "not_dishonesty",
                dishonest,
                "" if dishonest else _("该信息不是失信信息，无需申请信用修复。"),
            )
        )
        blocked = record.category in (params.get("non_repairable_categories") or [])
        results.append(
            RuleResult(
                "category_not_repairable",
                not blocked,
                _("“%(category)s”类信息依规不可修复。")
                % {"category": record.get_category_display()}
                if blocked
                else "",
            )
        )
        first = first_repairable_date(record, params)
        waited = today >= first
        months = int(params["repair_min_publicity_months"].get(record.severity or "general", 0))
        results.append(
            RuleResult(
                "minimum_publicity",
                waited,
                ""
                if waited
                else _(
                    "该信息（%(severity)s）须公示满 %(months)d 个月后方可申请修复：决定日期 %(decided)s，"
                    "可于 %(first)s 起申请。"
                )
                % {
                    "severity": record.get_severity_display() or "—",
                    "months": months,
                    "decided": record.decision_date.isoformat(),
                    "first": first.isoformat(),
                },
                {"first_date": first.isoformat(), "months": months},
            )
        )
        results.append(
            RuleResult(
                "objection_open",
                open_objection is None,
                _("该信息有正在处理的异议（%(ref)s），请待异议办结后再申请修复。")
                % {"ref": open_objection}
                if open_objection
                else "",
            )
        )
        results.append(
            RuleResult(
                "repair_open",
                open_repair is None,
                _("该信息已有正在办理的修复申请（%(ref)s），请勿重复提交，可在原案件中补充材料。")
                % {"ref": open_repair}
                if open_repair
                else "",
                {"reference": open_repair} if open_repair else {},
            )
        )
        window_months = int(params.get("repeat_repair_window_months") or 0)
        if params.get("repeat_repair_check", True) and last_approval is not None and window_months:
            ref, approved_at = last_approval
            approved_on = timezone.localdate(approved_at)
            window_end = months_later(approved_on, window_months)
            inside = today <= window_end
            results.append(
                RuleResult(
                    "repeat_window",
                    not inside,
                    _(
                        "本企业的信用修复申请（%(ref)s）已于 %(date)s 获准，%(months)d 个月内不得再次申请修复；"
                        "可于 %(next)s 起申请。"
                    )
                    % {
                        "ref": ref,
                        "date": approved_on.isoformat(),
                        "months": window_months,
                        "next": (window_end + datetime.timedelta(days=1)).isoformat(),
                    }
                    if inside
                    else "",
                    {"window_end": window_end.isoformat()},
                )
            )
        else:
            results.append(RuleResult("repeat_window", True, ""))
    if proof_count is not None:
        results.append(
            RuleResult(
                "proof_missing",
                proof_count > 0,
                ""
                if proof_count > 0
                else _(
                    "请上传纠正失信行为的证明材料（如罚款缴纳凭证、整改报告），PDF、JPG 或 PNG。"
                ),
            )
        )
    if commitment_accepted is not None:
        results.append(
            RuleResult(
                "commitment_missing",
                bool(commitment_accepted),
                "" if commitment_accepted else _("申请信用修复须签署信用修复承诺。"),
            )
        )
    return results


def failures(results: list[RuleResult]) -> list[RuleResult]:
    return [r for r in results if not r.ok]
