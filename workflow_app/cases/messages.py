"""Stored codes, rendered texts.

A timeline entry or a decision summary is written once and read for years, by readers of either
language. So services store ``{"msg": "<code>", "params": {...}}`` and readers call
:func:`render_message`, which formats the registered text in the active language. Parameter
values that are themselves codes of a registered choice set (``outcome``, ``status`` …) are
translated too, through :func:`register_labels`.

Domain apps register their codes at import time::

    register_messages({"repair.routed": _("转 {department} 作出修复决定")})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

_MESSAGES: dict[str, Any] = {}
_LABELS: dict[str, dict[str, Any]] = {}
_RESOLVERS: dict[str, Callable[[str], str]] = {}


def register_messages(messages: Mapping[str, Any]) -> None:
    _MESSAGES.update(messages)


def register_labels(param: str, choices: Iterable[tuple[str, Any]]) -> None:
    """Values of the parameter ``param`` are codes; render them with these labels."""
    _LABELS.setdefault(param, {}).update({str(code): label for code, label in choices})


def register_label_resolver(param: str, resolver: Callable[[str], str]) -> None:
    """Values of ``param`` are codes of rows (e.g. a department code): ``resolver`` names them."""
    _RESOLVERS[param] = resolver


def label_for(param: str, code: Any) -> str:
    if param in _RESOLVERS:
        try:
            return _RESOLVERS[param](str(code))
        except Exception:  # a name lookup must never break reading a timeline
            return str(code)
    return str(_LABELS.get(param, {}).get(str(code), code))


def has_labels(param: str) -> bool:
    return param in _LABELS or param in _RESOLVERS


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def render_message(code: str | None, params: Mapping[str, Any] | None = None) -> str:
    """The text of ``code`` in the active language; ``""`` for no code, the code itself when it
    is unknown (an old entry, or a code removed since)."""
    if not code:
        return ""
    text = _MESSAGES.get(code)
    if text is None:
        return code
    values = _Blank(
        {k: (label_for(k, v) if has_labels(k) else v) for k, v in (params or {}).items()}
    )
    try:
        return str(text).format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return str(text)


# Codes written by the kernel and the queue layer.
register_messages(
    {
        "task.claimed": _("认领任务"),
        "task.released": _("释放任务，退回队列"),
        "task.assigned": _("主管分派给 {who}"),
        "task.recalled": _("主管收回任务，退回队列"),
        "deadline.recomputed": _("官方日历已导入，临时期限“{step_kind}”重新计算为 {due}"),
        "deadline.reminder": _("期限“{step_kind}”将于 {due} 到期，已提醒办理人。"),
        "deadline.escalated": _("期限“{step_kind}”已于 {due} 逾期，已上报主管督办。"),
        "case.evidence_added": _("补充材料（{files} 个文件）"),
    }
)
