"""``{% site_nav %}``: the site's navigation (``templates/_site_nav.html``), kept rendered.

Every page's navigation — fourteen URLs reversed, a dozen translated links, the conditions on
the reader's role — was rendered anew for each request: about half of the base template's
CPU, on every page (issue 10: speed). What it shows depends only on the reader's kind (signed
in, role, staff, supervisor, superuser), the language, which of its links is the current page,
the unread count on its badge and the URL configuration: rendered once per such key and kept
(a bounded number of keys per process). The partial sees those values only, never the user,
so nothing of one reader can reach another's page.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# the navigation's links: a page among them is shown as the current one
NAV_URL_NAMES = (
    "home",
    "report-search",
    "verify",
    "red-list",
    "black-list",
    "objection-list",
    "repair-list",
    "commitment-list",
    "credit-check",
    "random-checks",
    "queue",
    "dashboard",
    "inbox",
)
_KEPT_MAX = 2_000
_kept: dict[tuple[Any, ...], SafeString] = {}
_nav_paths: dict[tuple[Any, ...], frozenset[str]] = {}


def _paths(urls: tuple[Any, ...]) -> frozenset[str]:
    """The navigation's own URLs under this URL configuration (one that lacks a page simply
    has no link to it, as ``{% url … as … %}`` leaves it out)."""
    found = _nav_paths.get(urls)
    if found is None:
        paths = set()
        for name in NAV_URL_NAMES:
            try:
                paths.add(reverse(name))
            except NoReverseMatch:
                pass
        found = _nav_paths[urls] = frozenset(paths)
    return found


@register.simple_tag(takes_context=True)
def site_nav(context: Any) -> SafeString:
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(getattr(user, "is_authenticated", False))
    reader = SimpleNamespace(
        is_authenticated=signed_in,
        role=getattr(user, "role", "") if signed_in else "",
        is_staff_member=bool(signed_in and getattr(user, "is_staff_member", False)),
        is_supervisor=bool(signed_in and getattr(user, "is_supervisor", False)),
        is_superuser=bool(signed_in and getattr(user, "is_superuser", False)),
    )
    urls = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    path = getattr(request, "path", "")
    current = path if path in _paths(urls) else ""
    unread = int(context.get("unread_notifications") or 0)
    key = (*urls, get_language(), *vars(reader).values(), current, unread)
    html = _kept.get(key)
    if html is None:
        if len(_kept) >= _KEPT_MAX:
            _kept.clear()
        html = _kept[key] = mark_safe(  # noqa: S308 - a template's own output
            render_to_string(
                "_site_nav.html",
                {"user": reader, "path": current, "unread_notifications": unread},
            )
        )
    return html
