"""Extension points the kernel offers to the layers above it.

The kernel never imports a domain app or ``processes``; instead those register here in their
``AppConfig.ready``:

- ``report_row_actions``: ``fn(user, records) -> {record_id: [action, …]}`` where an action is
  ``{"label": str, "url": str, "style": "primary"|"link"|"note"}`` — what the owner of a report can
  do about each record (file an objection, open the running case, apply for repair, or a note
  such as "repairable from 2026-03-05").
- ``home_counts``: ``fn(user) -> dict`` merged into the staff home page context.
- ``home_sections``: ``fn(user) -> {"template", …context} | None`` — a panel on the staff home
  page (a department's 双公示 timeliness, a supervisor's link to the dashboard).
- ``report_sections``: ``fn(subject, viewer) -> {"key", "template", "items"}`` — an extra
  section of the credit report (a subject's public commitments): ``items`` go into the report
  API under ``key``, and the page includes ``template`` with ``items`` in its context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

ReportActions = Callable[[Any, Sequence[Any]], dict[int, list[dict[str, str]]]]
HomeCounts = Callable[[Any], dict[str, Any]]

_report_actions: list[ReportActions] = []
_home_counts: list[HomeCounts] = []
HomeSection = Callable[[Any], dict[str, Any] | None]
_home_sections: list[HomeSection] = []
ReportSection = Callable[[Any, Any], dict[str, Any] | None]
_report_sections: list[ReportSection] = []


def register_report_section(fn: ReportSection) -> ReportSection:
    if fn not in _report_sections:
        _report_sections.append(fn)
    return fn


def report_sections(subject: Any, viewer: Any) -> list[dict[str, Any]]:
    """The sections this viewer may see (a section function returns ``None`` to stay hidden)."""
    return [s for s in (fn(subject, viewer) for fn in _report_sections) if s is not None]


def register_report_actions(fn: ReportActions) -> ReportActions:
    if fn not in _report_actions:
        _report_actions.append(fn)
    return fn


def register_home_counts(fn: HomeCounts) -> HomeCounts:
    if fn not in _home_counts:
        _home_counts.append(fn)
    return fn


def report_row_actions(user: Any, records: Sequence[Any]) -> dict[int, list[dict[str, str]]]:
    merged: dict[int, list[dict[str, str]]] = {}
    for fn in _report_actions:
        for record_id, actions in fn(user, records).items():
            merged.setdefault(record_id, []).extend(actions)
    return merged


def home_counts(user: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fn in _home_counts:
        merged.update(fn(user))
    return merged


def register_home_section(fn: HomeSection) -> HomeSection:
    if fn not in _home_sections:
        _home_sections.append(fn)
    return fn


def home_sections(user: Any) -> list[dict[str, Any]]:
    return [section for fn in _home_sections if (section := fn(user)) is not None]
