"""Services that change the working-day calendar (administrator data, with history)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .calendar import invalidate_cache
from .deadlines import deadline_recompute_provisional
from .models import CalendarDay, CalendarYear, Deadline

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KINDS = tuple(CalendarDay.Kind.values)


@dataclass(frozen=True)
class CalendarEntry:
    date: date
    kind: str
    note: str = ""


@dataclass
class CalendarLoadResult:
    years: list[int]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    recomputed: list[Deadline] = field(default_factory=list)


def calendar_parse_csv(text: str) -> tuple[list[CalendarEntry], list[str]]:
    """Parse a calendar file (header ``date,kind``, optional ``note`` column).

    Returns ``(entries, errors)``; each error names its line number. Blank lines are ignored.
    """
    errors: list[str] = []
    entries: list[CalendarEntry] = []
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        return [], [_("文件不是有效的 CSV：%(error)s") % {"error": exc}]
    # Skip leading blank lines to find the header.
    index = 0
    while index < len(rows) and not any(cell.strip() for cell in rows[index]):
        index += 1
    if index == len(rows):
        return [], [_("文件为空：第一行应为表头 date,kind。")]
    header = [cell.strip().lower() for cell in rows[index]]
    if header[:2] != ["date", "kind"] or not set(header[2:]) <= {"note"}:
        return [], [
            _("第 %(line)s 行：表头应为 date,kind（可选第三列 note），实际为 “%(header)s”。")
            % {"line": index + 1, "header": ",".join(rows[index])}
        ]
    has_note = len(header) > 2
    expected = 3 if has_note else 2
    seen: dict[date, int] = {}
    for line, row in enumerate(rows[index + 1 :], start=index + 2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row]
        if not 2 <= len(cells) <= expected:
            errors.append(
                _("第 %(line)s 行：应有 %(expected)s 列，实际为 %(count)s 列：“%(row)s”。")
                % {"line": line, "expected": expected, "count": len(cells), "row": ",".join(row)}
            )
            continue
        raw_date, kind = cells[0], cells[1]
        note = cells[2] if len(cells) > 2 else ""
        line_errors: list[str] = []
        day: date | None = None
        if not _DATE_RE.match(raw_date):
            line_errors.append(
                _("第 %(line)s 行：日期 “%(value)s” 格式不对，应为 YYYY-MM-DD（例如 2027-01-01）。")
                % {"line": line, "value": raw_date}
            )
        else:
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                line_errors.append(
                    _("第 %(line)s 行：日期 “%(value)s” 不存在。")
                    % {"line": line, "value": raw_date}
                )
        if kind not in KINDS:
            line_errors.append(
                _(
                    "第 %(line)s 行：类型 “%(value)s” 无效，应为 holiday（放假）"
                    "或 workday（调休上班）。"
                )
                % {"line": line, "value": kind}
            )
        if len(note) > 200:
            line_errors.append(_("第 %(line)s 行：说明过长（最多 200 个字符）。") % {"line": line})
        if day is not None:
            if day in seen:
                line_errors.append(
                    _("第 %(line)s 行：日期 %(date)s 与第 %(first)s 行重复。")
                    % {"line": line, "date": day.isoformat(), "first": seen[day]}
                )
            else:
                seen[day] = line
        if line_errors:
            errors.extend(line_errors)
        elif day is not None:
            entries.append(CalendarEntry(date=day, kind=kind, note=note))
    if not errors and not entries:
        errors.append(_("文件中没有任何日期：表头之后至少需要一行 date,kind。"))
    return entries, errors


def _apply_day(entry: CalendarEntry, *, by: Any, reason: str) -> str:
    """Upsert one day; returns ``created``, ``updated`` or ``unchanged``."""
    day = CalendarDay.objects.select_for_update().filter(date=entry.date).first()
    if day is not None and day.kind == entry.kind and (day.note == entry.note or not entry.note):
        return "unchanged"
    outcome = "updated" if day is not None else "created"
    if day is None:
        day = CalendarDay(date=entry.date)
    day.kind = entry.kind
    if entry.note or outcome == "created":
        day.note = entry.note
    day._change_reason = reason  # type: ignore[attr-defined]
    if getattr(by, "pk", None):
        day._history_user = by  # type: ignore[attr-defined]
    day.save()
    return outcome


def calendar_load(
    *,
    entries: Iterable[CalendarEntry],
    source: str,
    by: Any = None,
) -> CalendarLoadResult:
    """Load official holidays and make-up working days: upsert each day (with history), mark
    the years the entries name as covered, then recompute open provisional deadlines.

    All or nothing: one transaction.
    """
    entries = list(entries)
    years = sorted({e.date.year for e in entries})
    result = CalendarLoadResult(years=years)
    reason = _("导入官方日历：%(source)s") % {"source": source}
    try:
        with transaction.atomic():
            for entry in sorted(entries, key=lambda e: e.date):
                outcome = _apply_day(entry, by=by, reason=reason)
                setattr(result, outcome, getattr(result, outcome) + 1)
            for year in years:
                row = CalendarYear.objects.select_for_update().filter(year=year).first()
                if row is None:
                    row = CalendarYear(year=year)
                row.source = source[:200]
                row._change_reason = reason  # type: ignore[attr-defined]
                if getattr(by, "pk", None):
                    row._history_user = by  # type: ignore[attr-defined]
                row.save()
            invalidate_cache()
            result.recomputed = deadline_recompute_provisional(by=by)
    finally:
        invalidate_cache()
    return result


def calendar_day_set(
    *, day: date, kind: str, note: str = "", by: Any, reason: str = ""
) -> CalendarDay:
    """Set an administrator override for one day (wins over the official data of any year)."""
    if kind not in KINDS:
        raise ValueError(f"unknown calendar day kind {kind!r}")
    try:
        with transaction.atomic():
            obj = CalendarDay.objects.select_for_update().filter(date=day).first()
            if obj is None:
                obj = CalendarDay(date=day)
            obj.kind = kind
            obj.note = note
            obj._change_reason = reason or _("管理员维护日历")  # type: ignore[attr-defined]
            if getattr(by, "pk", None):
                obj._history_user = by  # type: ignore[attr-defined]
            obj.save()
    finally:
        invalidate_cache()
    return obj


def calendar_day_delete(*, calendar_day: CalendarDay, by: Any, reason: str = "") -> None:
    """Remove an administrator override (history keeps it)."""
    try:
        with transaction.atomic():
            calendar_day._change_reason = reason or _("管理员删除日历日")  # type: ignore[attr-defined]
            if getattr(by, "pk", None):
                calendar_day._history_user = by  # type: ignore[attr-defined]
            calendar_day.delete()
    finally:
        invalidate_cache()
