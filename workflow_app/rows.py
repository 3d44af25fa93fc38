"""Table rows rendered in Python for the pages read most (issue 10: speed).

The queue page's 50 rows and a credit report's records went through Django's template engine
cell by cell — a ``{% for %}`` with ten variables, filters and ``{% if %}`` tags each — which
was most of those pages' CPU (the queue page about 40 %, a report page about 40 %). Their rows
are built here as text instead: every value passes through :func:`esc` (what Django's
``escape`` does, without its lazy-text wrapper, which cost more than the escaping), the labels
are translated once per page, and the result is marked safe once for the template to place.
Labels of codes (steps, statuses) are made text once per language (:func:`texts`), and cut
text is cut without the template filter's lazy machinery (:func:`truncate`).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language

DASH = "—"  # an empty cell


def esc(value: Any) -> str:
    """``value`` as text, HTML-escaped (``&<>"'``) — Django's ``escape``; a value already
    marked safe as it is (the template's autoescape: ``conditional_escape``)."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def truncate(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters, ending in "…" when cut: the ``truncatechars``
    filter's result (Django's ``Truncator``), which the filter reached through two lazy-text
    wrappers and a translation lookup per value — most values here are shorter, and pay only
    the normalisation."""
    text = unicodedata.normalize("NFC", text)
    if len(text) <= length:  # combining characters only make the counted length shorter
        return text
    return Truncator(text).chars(length)


# (name, language) -> the labels as text; labels of codes are fixed once the apps are loaded
_TEXTS: dict[tuple[str, str | None], Mapping[Any, str]] = {}


def texts(name: str, build: Callable[[], Mapping[Any, Any]]) -> Mapping[Any, str]:
    """``build()``'s labels (lazy translations: steps, statuses, a model's choices) as text in
    the active language, made once a process per language and ``name`` (read-only: every page
    shares it): a page's rows and filters read plain text instead of translating each label
    where it appears."""
    key = (name, get_language())
    found = _TEXTS.get(key)
    if found is None:
        made = {code: str(label) for code, label in build().items()}
        found = _TEXTS[key] = MappingProxyType(made)
    return found


def minute_texts() -> Callable[[Any], str]:
    """A function writing a time as ``YYYY-MM-DD HH:MM`` in the current time zone (Django's
    ``localtime``, the zone looked up once a page instead of once a value); ``""`` for None."""
    zone = timezone.get_current_timezone()

    def text(value: Any) -> str:
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return text


def labels(*texts: Any) -> list[str]:
    """Texts translated by the caller (``_("…")``, so that ``makemessages`` finds them), escaped
    for an attribute or a cell."""
    return [esc(text) for text in texts]


def safe_rows(rows: list[str]) -> SafeString:
    """The rows, each built from escaped values only, for the template to place as they are."""
    return mark_safe("\n".join(rows))  # noqa: S308 - every value in them went through esc()
