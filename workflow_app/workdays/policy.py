"""Policy parameters (SPEC §4): defaults, versions, and the snapshot a case keeps.

The parameters in force at a moment are ``DEFAULTS`` updated by the newest ``PolicyVersion``
whose ``effective_from`` has come. Each version stores the full merged parameter set, so a
version read alone says everything that was in force. A case stores :func:`policy_snapshot`
when it is filed; later versions never move its running deadlines.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflow_app.compiled import CompiledQuery

from .models import PolicyVersion

SEVERITIES = ("minor", "general", "serious")
GRADES = ("A", "BBB", "BB", "B", "CCC", "CC", "C", "D")

DEFAULTS: dict[str, Any] = {
    "objection_intake_days": 2,
    "objection_platform_check_days": 2,
    "objection_verification_days": 10,
    "supplement_days": 5,
    "repair_intake_days": 2,
    "repair_decision_days": 3,
    "repair_total_days": 10,
    "sync_days": 3,
    "repair_min_publicity_months": {"minor": 0, "general": 3, "serious": 12},
    "max_publicity_months": {"minor": 3, "general": 12, "serious": 36},
    "repeat_repair_window_months": 12,
    "repeat_repair_check": True,
    "non_repairable_categories": [],
    "notification_verification_months": 3,
    "deficiency_supplement_days": 20,
    "breach_review_days": 10,
    "reminder_days_before": 2,
    "random_check_ratio": {
        "A": 0.05,
        "BBB": 0.05,
        "BB": 0.2,
        "B": 0.2,
        "CCC": 0.6,
        "CC": 0.6,
        "C": 1.0,
        "D": 1.0,
    },
    "evidence_required": False,
    # commitments (SPEC §7)
    "random_check_verification_days": 20,
    "red_list_check_factor": 0.5,
    "breach_record_severity": "general",
    "breach_publicity_months": 12,
    # oversight: 双公示 licence/penalty data pushed within N working days of the decision (长宁);
    # a list entry reported to the national platform within N working days (珠海)
    "double_publicity_days": 10,
    "national_list_report_days": 10,
}

# What an administrator reads beside each parameter: label, unit, and where the default comes from.
PARAM_INFO: dict[str, tuple[Any, Any, Any]] = {
    "objection_intake_days": (
        gettext_lazy("异议受理期限"),
        gettext_lazy("个工作日"),
        "Guangzhou objection guide",
    ),
    "objection_platform_check_days": (
        gettext_lazy("异议平台核查期限"),
        gettext_lazy("个工作日"),
        "Guangzhou objection guide",
    ),
    "objection_verification_days": (
        gettext_lazy("信源单位核查期限"),
        gettext_lazy("个工作日"),
        "Guangzhou objection guide",
    ),
    "supplement_days": (
        gettext_lazy("申请人补正期限"),
        gettext_lazy("个工作日"),
        gettext_lazy("地方实践"),
    ),
    "repair_intake_days": (
        gettext_lazy("修复受理与转办期限"),
        gettext_lazy("个工作日"),
        "国办发〔2025〕22号",
    ),
    "repair_decision_days": (
        gettext_lazy("认定单位修复决定期限"),
        gettext_lazy("个工作日"),
        "国办发〔2025〕22号",
    ),
    "repair_total_days": (
        gettext_lazy("修复办结总期限"),
        gettext_lazy("个工作日"),
        "国办发〔2025〕22号",
    ),
    "sync_days": (gettext_lazy("结果同步期限"), gettext_lazy("个工作日"), gettext_lazy("地方实践")),
    "repair_min_publicity_months": (
        gettext_lazy("修复前最短公示期"),
        gettext_lazy("个月"),
        "信用修复管理办法（2026）",
    ),
    "max_publicity_months": (
        gettext_lazy("最长公示期"),
        gettext_lazy("个月"),
        "信用修复管理办法（2026）",
    ),
    "repeat_repair_window_months": (
        gettext_lazy("重复修复限制期"),
        gettext_lazy("个月"),
        gettext_lazy("地方实践"),
    ),
    "repeat_repair_check": (gettext_lazy("启用重复修复限制"), "", gettext_lazy("地方实践")),
    "non_repairable_categories": (gettext_lazy("不可修复的信息类别"), "", gettext_lazy("地方实践")),
    "notification_verification_months": (
        gettext_lazy("告知承诺核查期限"),
        gettext_lazy("个月"),
        gettext_lazy("北京实践"),
    ),
    "deficiency_supplement_days": (
        gettext_lazy("容缺补正默认期限"),
        gettext_lazy("个工作日"),
        gettext_lazy("地方实践"),
    ),
    "breach_review_days": (
        gettext_lazy("违诺审查期限"),
        gettext_lazy("个工作日"),
        gettext_lazy("地方实践"),
    ),
    "reminder_days_before": (gettext_lazy("到期前提醒"), gettext_lazy("个工作日"), ""),
    "random_check_ratio": (
        gettext_lazy("双随机抽查比例（按信用等级）"),
        gettext_lazy("比例 0–1"),
        gettext_lazy("等级关联的双随机实践"),
    ),
    "evidence_required": (gettext_lazy("提出异议须上传证明材料"), "", ""),
    "random_check_verification_days": (
        gettext_lazy("抽查核查期限"),
        gettext_lazy("个工作日"),
        gettext_lazy("地方实践"),
    ),
    "red_list_check_factor": (
        gettext_lazy("红名单抽查比例系数"),
        gettext_lazy("系数 0–1"),
        gettext_lazy("福田实践"),
    ),
    "breach_record_severity": (gettext_lazy("违诺失信信息的严重程度"), "", ""),
    "breach_publicity_months": (gettext_lazy("违诺失信信息公示期"), gettext_lazy("个月"), ""),
    "double_publicity_days": (
        gettext_lazy("双公示信息报送时限（自决定之日起）"),
        gettext_lazy("个工作日"),
        gettext_lazy("长宁实践"),
    ),
    "national_list_report_days": (
        gettext_lazy("红黑名单报送国家平台时限"),
        gettext_lazy("个工作日"),
        gettext_lazy("珠海实践"),
    ),
}

# Kinds of parameter, used to validate updates.
_INT = "int"
_BOOL = "bool"
_SEVERITY_MONTHS = "severity_months"
_CATEGORIES = "categories"
_RATIOS = "ratios"
_FACTOR = "factor"
_SEVERITY = "severity"

_KINDS: dict[str, str] = {
    key: _INT
    for key, value in DEFAULTS.items()
    if isinstance(value, int) and not isinstance(value, bool)
}
_KINDS.update(
    {
        "repeat_repair_check": _BOOL,
        "evidence_required": _BOOL,
        "repair_min_publicity_months": _SEVERITY_MONTHS,
        "max_publicity_months": _SEVERITY_MONTHS,
        "non_repairable_categories": _CATEGORIES,
        "random_check_ratio": _RATIOS,
        "red_list_check_factor": _FACTOR,
        "breach_record_severity": _SEVERITY,
    }
)
# Periods that must be at least one unit long.
_POSITIVE = {key for key in _KINDS if key.endswith("_days") and _KINDS[key] == _INT} | {
    "notification_verification_months",
}
_POSITIVE.discard("reminder_days_before")

_MAX_INT = 3650


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _category_codes() -> list[str]:
    from workflow_app.registry.models import Category

    return [c.value for c in Category]


def _validate_value(key: str, value: Any) -> list[str]:
    kind = _KINDS[key]
    errors: list[str] = []
    if kind == _INT:
        low = 1 if key in _POSITIVE else 0
        if not _is_int(value) or not low <= value <= _MAX_INT:
            errors.append(
                _("参数 %(key)s 应为 %(low)s 到 %(high)s 之间的整数，收到的是 %(value)r。")
                % {"key": key, "low": low, "high": _MAX_INT, "value": value}
            )
    elif kind == _BOOL:
        if not isinstance(value, bool):
            errors.append(
                _("参数 %(key)s 应为 true 或 false，收到的是 %(value)r。")
                % {"key": key, "value": value}
            )
    elif kind == _SEVERITY_MONTHS:
        if (
            not isinstance(value, dict)
            or set(value) != set(SEVERITIES)
            or not all(_is_int(v) and 0 <= v <= 1200 for v in value.values())
        ):
            errors.append(
                _(
                    "参数 %(key)s 应为包含 minor、general、serious 三项的对象，"
                    "每项为 0 到 1200 之间的月数，收到的是 %(value)r。"
                )
                % {"key": key, "value": value}
            )
    elif kind == _CATEGORIES:
        codes = _category_codes()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(
                _("参数 %(key)s 应为信息类别代码的列表，收到的是 %(value)r。")
                % {"key": key, "value": value}
            )
        else:
            unknown = [v for v in value if v not in codes]
            if unknown:
                errors.append(
                    _("参数 %(key)s 含有未知的信息类别：%(unknown)s；可用的类别为：%(codes)s。")
                    % {"key": key, "unknown": ", ".join(unknown), "codes": ", ".join(codes)}
                )
    elif kind == _FACTOR and (
        not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1
    ):
        errors.append(
            _("参数 %(key)s 应为 0 到 1 之间的系数，收到的是 %(value)r。")
            % {"key": key, "value": value}
        )
    elif kind == _SEVERITY and value not in SEVERITIES:
        errors.append(
            _("参数 %(key)s 应为 minor、general 或 serious，收到的是 %(value)r。")
            % {"key": key, "value": value}
        )
    elif kind == _RATIOS and (
        not isinstance(value, dict)
        or set(value) != set(GRADES)
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
            for v in value.values()
        )
    ):
        errors.append(
            _(
                "参数 %(key)s 应为包含 %(grades)s 各等级的对象，每项为 0 到 1 之间的比例，"
                "收到的是 %(value)r。"
            )
            % {"key": key, "grades": "、".join(GRADES), "value": value}
        )
    return errors


def policy_validate(params: dict[str, Any], *, merged: dict[str, Any] | None = None) -> None:
    """Raise ``ValidationError`` (all problems at once) when ``params`` is not a valid update."""
    if not isinstance(params, dict):
        raise ValidationError(_("政策参数应为 JSON 对象（键为参数名）。"))
    errors: list[str] = []
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        errors.append(
            _("未知的政策参数：%(unknown)s。可用的参数为：%(known)s。")
            % {"unknown": ", ".join(unknown), "known": ", ".join(DEFAULTS)}
        )
    for key, value in params.items():
        if key in DEFAULTS:
            errors.extend(_validate_value(key, value))
    if not errors and merged is not None:
        minimum = merged["repair_min_publicity_months"]
        maximum = merged["max_publicity_months"]
        for severity in SEVERITIES:
            if minimum[severity] > maximum[severity]:
                errors.append(
                    _(
                        "“%(severity)s”级失信信息的最短公示期（%(min)s 个月）"
                        "不能长于最长公示期（%(max)s 个月）。"
                    )
                    % {"severity": severity, "min": minimum[severity], "max": maximum[severity]}
                )
        if merged["repair_decision_days"] > merged["repair_total_days"]:
            errors.append(
                _(
                    "修复决定期限（%(decision)s 个工作日）不能长于修复全程期限（%(total)s 个工作日）。"
                )
                % {
                    "decision": merged["repair_decision_days"],
                    "total": merged["repair_total_days"],
                }
            )
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------


# every filing reads it: compiled once per connection (workflow_app/compiled.py)
_IN_FORCE = CompiledQuery(
    lambda at: (
        PolicyVersion.objects.filter(effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .only("id", "params")[:1]
    ),
    datetime,
)


def current_policy(at: datetime | None = None) -> tuple[int | None, dict[str, Any]]:
    """``(version id or None when only defaults apply, parameters in force at ``at``)``."""
    at = at or timezone.now()
    params = copy.deepcopy(DEFAULTS)
    version = _IN_FORCE.first(at)
    if version is None:
        return None, params
    params.update({k: copy.deepcopy(v) for k, v in (version.params or {}).items() if k in DEFAULTS})
    return version.pk, params


def policy_snapshot() -> dict[str, Any]:
    """What a case stores when it is filed: ``{"version": id or None, "params": {...}}``."""
    version, params = current_policy()
    return {"version": version, "params": params}


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def policy_update(
    *,
    params: dict[str, Any],
    by: Any,
    note: str,
    effective_from: datetime | None = None,
) -> PolicyVersion:
    """Create a new policy version: the parameters in force at ``effective_from`` (default: now)
    updated by ``params``. Raises ``ValidationError`` for unknown keys or wrong values."""
    policy_validate(params)
    effective_from = effective_from or timezone.now()
    with transaction.atomic():
        # Serialise concurrent updates so each version builds on the one before it.
        list(PolicyVersion.objects.select_for_update().order_by("-id").values_list("id")[:1])
        _version, merged = current_policy(effective_from)
        merged.update(copy.deepcopy(params))
        policy_validate(params, merged=merged)
        version = PolicyVersion(
            effective_from=effective_from,
            params=merged,
            note=note,
            created_by=by if getattr(by, "pk", None) else None,
        )
        version._change_reason = note or _("修改政策参数")  # type: ignore[attr-defined]
        if getattr(by, "pk", None):
            version._history_user = by  # type: ignore[attr-defined]
        version.save()
    return version
