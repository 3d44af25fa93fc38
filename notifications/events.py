"""Registry of notification texts (SPEC §9: texts in Chinese and English, from templates).

Domain apps register their events in their own modules::

    register("objection.accepted", title=_("异议已受理：{reference}"), body=_("…{record_title}…"))

``title`` and ``body`` are gettext_lazy strings whose ``{placeholders}`` are filled from the
delivery's context; ``render`` formats them in the recipient's language. A placeholder missing
from the context renders empty rather than failing a delivery; an unknown event gets a generic
text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from workflow_app.cases.messages import has_labels, label_for


@dataclass(frozen=True)
class EventText:
    title: Any
    body: Any


_EVENTS: dict[str, EventText] = {}
_STEP_LABELS: dict[str, Any] = {}

GENERIC = EventText(
    title=_("系统通知：{reference}"), body=_("您关注的事项有新的进展，请登录系统查看。")
)


def register(event: str, *, title: Any, body: Any) -> None:
    """Register (or replace) the texts of ``event``."""
    _EVENTS[event] = EventText(title=title, body=body)


def is_registered(event: str) -> bool:
    return event in _EVENTS


def register_step(kind: str, label: Any) -> None:
    """Name a deadline kind / task step for people (used in reminder and escalation texts)."""
    _STEP_LABELS[kind] = label


def step_label(kind: str, language: str | None = None) -> str:
    label = _STEP_LABELS.get(kind, kind)
    if language:
        with translation.override(language):
            return str(label)
    return str(label)


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def render(event: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """``(title, body)`` of ``event`` in ``language`` with the context's values filled in."""
    text = _EVENTS.get(event, GENERIC)
    with translation.override(language or "zh-hans"):
        values = _Blank(
            {
                k: (label_for(k, v) if has_labels(k) else v)
                for k, v in context.items()
                if not k.startswith("_")
            }
        )
        if "step_kind" in context:
            values["step"] = str(_STEP_LABELS.get(context["step_kind"], values.get("step", "")))
        values.setdefault("reference", "")
        try:
            title = str(text.title).format_map(values)
            body = str(text.body).format_map(values)
        except (ValueError, IndexError, AttributeError, KeyError):
            title, body = str(GENERIC.title).format_map(values), str(GENERIC.body)
        return title, body


# Generic events of the deadline sweeps (notifications.services.sweep_reminders/escalations).
register(
    "deadline.reminder",
    title=_("任务即将到期：{reference}"),
    body=_("“{step}”将于 {due_at} 到期，请及时办理。"),
)
register(
    "deadline.escalated",
    title=_("任务已逾期：{reference}"),
    body=_("“{step}”已于 {due_at} 逾期（队列：{queue}，办理人：{assignee}），请督促办理。"),
)

# The task steps of SPEC §12; domain apps may register more (or other wording) with register_step.
for _kind, _label in {
    "objection_intake": _("异议受理"),
    "objection_platform_check": _("异议平台核查"),
    "objection_verification": _("异议信源单位核查"),
    "objection_supplement": _("异议补正材料"),
    "repair_intake": _("信用修复受理"),
    "repair_decision": _("信用修复决定"),
    "repair_supplement": _("信用修复补正材料"),
    "commitment_verification": _("承诺履行核查"),
    "breach_review": _("失信违诺审查"),
}.items():
    register_step(_kind, _label)
