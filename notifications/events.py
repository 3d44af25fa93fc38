"""Registry of notification texts. Domain apps register their events in their own modules; texts
are gettext_lazy templates with ``{placeholders}`` filled from the delivery's context, rendered in
the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventText:
    title: Any
    body: Any


_EVENTS: dict[str, EventText] = {}


def register(event: str, *, title: Any, body: Any) -> None:
    _EVENTS[event] = EventText(title=title, body=body)


class _Default(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def render(event: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    text = _EVENTS.get(event) or EventText(title=_("系统通知"), body=_("{reference} 有新的进展。"))
    with translation.override(language or "zh-hans"):
        values = _Default({k: v for k, v in context.items() if not k.startswith("_")})
        for k, v in list(values.items()):
            if k.endswith("_label") or k in ("step", "outcome"):
                values[k] = str(v)
        return str(text.title).format_map(values), str(text.body).format_map(values)


register(
    "deadline.reminder",
    title=_("任务即将到期：{reference}"),
    body=_("{step}将于 {due_at} 到期，请及时办理。"),
)
register(
    "deadline.escalated",
    title=_("任务已逾期：{reference}"),
    body=_("{step}已于 {due_at} 逾期（队列：{queue}，办理人：{assignee}），请主管督办。"),
)
