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

# the navigation's links, by the variable the partial reads each one's URL from
NAV_URLS = {
    "home_url": "home",
    "report_search_url": "report-search",
    "verify_url": "verify",
    "red_list_url": "red-list",
    "black_list_url": "black-list",
    "objection_list_url": "objection-list",
    "repair_list_url": "repair-list",
    "commitment_list_url": "commitment-list",
    "credit_check_url": "credit-check",
    "random_checks_url": "random-checks",
    "queue_url": "queue",
    "dashboard_url": "dashboard",
    "inbox_url": "inbox",
    "admin_url": "admin:index",
}
_KEPT_MAX = 2_000
_kept: dict[tuple[Any, ...], SafeString] = {}
_nav_urls: dict[tuple[Any, ...], dict[str, str]] = {}


def _urls(conf: tuple[Any, ...]) -> dict[str, str]:
    """The navigation's URLs under this URL configuration, reversed once; a page it lacks is
    ``""`` and has no link (as ``{% url … as … %}`` leaves it out)."""
    found = _nav_urls.get(conf)
    if found is None:
        found = {}
        for var, name in NAV_URLS.items():
            try:
                found[var] = reverse(name)
            except NoReverseMatch:
                found[var] = ""
        _nav_urls[conf] = found
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
    conf = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    urls = _urls(conf)
    path = getattr(request, "path", "")
    current = path if path in urls.values() else ""
    unread = int(context.get("unread_notifications") or 0)
    key = (*conf, get_language(), *vars(reader).values(), current, unread)
    html = _kept.get(key)
    if html is None:
        if len(_kept) >= _KEPT_MAX:
            _kept.clear()
        html = _kept[key] = mark_safe(  # noqa: S308 - a template's own output
            render_to_string(
                "_site_nav.html",
                {**urls, "user": reader, "path": current, "unread_notifications": unread},
            )
        )
    return html
