"""``{% url %}`` through workflow_app/url_tags.py gives what Django's gives."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, RequestContext, engines
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, set_script_prefix
from django.utils import translation

from workflow_app import kept_output, url_tags

SOURCE = (
    "[{% url 'home' %}]"
    "[{% url 'queue-export' 'csv' %}]"
    "[{% url 'queue-export' fmt %}]"
    "[{% url 'task-detail' 7 %}]"
    "[{% url 'task-detail' task_id=7 %}]"
    "[{% url 'login' as login_url %}{{ login_url }}]"
    "[{% url 'no-such-page' as missing %}{{ missing }}]"
    "[{% url 'admin:index' %}]"
    "[{% url name %}]"
    "{% for i in 'ab' %}[{% url 'logout' %}]{% endfor %}"
)


def _djangos() -> Engine:
    return Engine()


def _context(request=None, autoescape=True):
    values = {"fmt": "xlsx", "name": "inbox"}
    if request is not None:
        return RequestContext(request, values, autoescape=autoescape)
    return Context(values, autoescape=autoescape)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_the_output_is_djangos(language, autoescape, rf: RequestFactory):
    ours = engines["django"].engine.from_string(SOURCE)
    djangos = _djangos().from_string(SOURCE)
    with translation.override(language):
        for _ in range(2):  # the second render answers from what the first kept
            assert ours.render(_context(autoescape=autoescape)) == djangos.render(
                _context(autoescape=autoescape)
            )
        request = rf.get("/admin/")
        request.current_app = "admin"
        assert ours.render(_context(request)) == djangos.render(_context(request))
    assert "[/queue/export/csv/]" in ours.render(_context()) or "csv" in ours.render(_context())


def test_only_literal_urls_are_kept():
    template = engines["django"].engine.from_string(SOURCE)
    nodes = [type(n).__name__ for n in template.nodelist if "URL" in type(n).__name__]
    # home, export csv, task 7, task_id=7, login as, missing as, admin; not fmt, not name
    assert nodes.count("LiteralURLNode") == 7 and nodes.count("URLNode") == 2


def test_a_name_that_does_not_reverse_is_an_error_every_time():
    template = engines["django"].engine.from_string("{% url 'no-such-page' %}")
    for _ in range(2):
        with pytest.raises(NoReverseMatch):
            template.render(Context({}))


def test_another_script_prefix_or_url_configuration_gives_its_own_urls():
    template = engines["django"].engine.from_string("{% url 'home' %}|{% url 'inbox' %}")
    before = template.render(Context({}))
    # the site mounted under a path (the WSGI server's SCRIPT_NAME, set per request)
    set_script_prefix("/credit/")
    try:
        assert template.render(Context({})) == "/credit" + before.replace("|/", "|/credit/")
    finally:
        set_script_prefix("/")
    assert template.render(Context({})) == before
    generation = kept_output.generation()
    with override_settings(ROOT_URLCONF="workflow_app.urls"):
        assert kept_output.generation() == generation + 1
        assert template.render(Context({})) == before


def test_the_sites_templates_use_it():
    engine = engines["django"].engine
    assert url_tags.register in engine.template_builtins
    assert engine.from_string("{% url 'home' %}").nodelist[0].__class__ is url_tags.LiteralURLNode
