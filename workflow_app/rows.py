"""Table rows rendered in Python for the pages read most (issue 10: speed).

The queue page's 50 rows and a credit report's records went through Django's template engine
cell by cell — a ``{% for %}`` with ten variables, filters and ``{% if %}`` tags each — which
was most of those pages' CPU (the queue page about 40 %, a report page about 40 %). Their rows
are built here as text instead: every value passes through :func:`esc` (what Django's
``escape`` does, without its lazy-text wrapper, which cost more than the escaping), the labels
are translated once per page, and the result is marked safe once for the template to place.
"""

from __future__ import annotations

import html
from typing import Any

from django.utils.safestring import SafeData, SafeString, mark_safe

DASH = "—"  # an empty cell


def esc(value: Any) -> str:
    """``value`` as text, HTML-escaped (``&<>"'``) — Django's ``escape``; a value already
    marked safe as it is (the template's autoescape: ``conditional_escape``)."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def labels(*texts: Any) -> list[str]:
    """Texts translated by the caller (``_("…")``, so that ``makemessages`` finds them), escaped
    for an attribute or a cell."""
    return [esc(text) for text in texts]


def safe_rows(rows: list[str]) -> SafeString:
    """The rows, each built from escaped values only, for the template to place as they are."""
    return mark_safe("\n".join(rows))  # noqa: S308 - every value in them went through esc()
