"""Django's ``{% url %}`` with a literal view name and literal arguments reversed once.

Every page's base template reverses the same four names (home, sign-in, sign-out, language)
and a page its own few — ``reverse()`` each time: about 5 % of the CPU of the centre's queue
page (py-spy). A ``{% url %}`` whose view name and arguments are all literals gives the same URL
for the same URL configuration, script prefix, language and current application (the
namespace a namespaced name is reversed in), so the node keeps it per those
(workflow_app/kept_output.py) after reversing it the way Django does; a name that does not
reverse is still an error each time (or ``""`` with ``as``). A ``{% url %}`` with any variable is
Django's node as it is.

Registered as a builtin (``TEMPLATES`` ``builtins``), after Django's own: its ``url`` tag is
this one.
"""

from __future__ import annotations

from typing import Any

from django.template import Library, defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

from workflow_app.kept_output import kept

register = Library()


def _current_app(context: Any) -> str | None:
    """The application namespace Django's ``URLNode`` reverses in."""
    try:
        return context.request.current_app  # type: ignore[no-any-return]
    except AttributeError:
        try:
            return context.request.resolver_match.namespace  # type: ignore[no-any-return]
        except AttributeError:
            return None


class LiteralURLNode(defaulttags.URLNode):
    def render(self, context: Any) -> Any:
        current_app = _current_app(context)
        view_name = _value(self.view_name)
        args = [_value(arg) for arg in self.args]
        kwargs = {k: _value(v) for k, v in self.kwargs.items()}

        def url() -> str:
            try:
                return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
            except NoReverseMatch:
                if self.asvar is None:
                    raise
                return ""

        found = kept(self, (get_urlconf(), get_script_prefix(), get_language(), current_app), url)
        if self.asvar:
            context[self.asvar] = found
            return ""
        return conditional_escape(found) if context.autoescape else found


def _constant(expression: Any) -> bool:
    """A quoted text (kept as the value itself) or a number (a ``Variable`` with a literal)."""
    if expression.filters:
        return False
    return not expression.is_var or expression.var.literal is not None


def _value(expression: Any) -> Any:
    return expression.var.literal if expression.is_var else expression.var


@register.tag("url")
def url(parser: Any, token: Any) -> Any:
    node = defaulttags.url(parser, token)
    if (
        _constant(node.view_name)
        and all(_constant(a) for a in node.args)
        and all(_constant(v) for v in node.kwargs.values())
    ):
        node.__class__ = LiteralURLNode
    return node
