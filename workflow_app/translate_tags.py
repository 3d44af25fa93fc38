"""Django's ``i18n`` template library with ``{% translate "literal" %}`` rendered once per language.

Every page's template carries dozens of ``{% translate "…" %}`` of a fixed text (headings,
labels, buttons). Django's node resolves the text on each render as a lazy translation
(``Variable.resolve`` returns ``gettext_lazy(msgid)``), which ``render_value_in_context`` then
casts, escapes and localises: about 9 % of the CPU of the centre's queue page (py-spy), the same
work every time for the same language. For a node whose text is a literal — no filter, no
``as``, a literal ``context`` or none — the output depends on nothing but the active language and
the context's autoescaping, so the node keeps it per (language, autoescape) after rendering it
once the way Django does. Any other ``{% translate %}`` (a variable, a filter, ``as var``) is
Django's node as it is.

The settings register this module under the label ``i18n`` (``TEMPLATES`` ``libraries``), so
every ``{% load i18n %}`` gets it: Django's tags and filters, this ``translate``/``trans``.
"""

from __future__ import annotations

from typing import Any

from django.template import Library, Variable
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language

from workflow_app.kept_output import kept

register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class LiteralTranslateNode(django_i18n.TranslateNode):
    """Django's ``TranslateNode`` for a literal text: rendered by Django once per language and
    autoescaping, then answered from what it rendered (workflow_app/kept_output.py)."""

    def render(self, context: Any) -> Any:
        render = super().render
        return kept(self, (get_language(), context.autoescape), lambda: render(context))


def literal(node: django_i18n.TranslateNode) -> bool:
    """Whether the node's output depends on the language and autoescaping only."""
    expression, message_context = node.filter_expression, node.message_context
    return (
        not node.asvar
        and not expression.filters
        and isinstance(expression.var, Variable)
        and expression.var.literal is not None
        and (
            message_context is None
            or (isinstance(message_context.var, str) and not message_context.filters)
        )
    )


@register.tag("translate")
@register.tag("trans")
def do_translate(parser: Any, token: Any) -> Any:
    node = django_i18n.do_translate(parser, token)
    if isinstance(node, django_i18n.TranslateNode) and literal(node):
        node.__class__ = LiteralTranslateNode
    return node
