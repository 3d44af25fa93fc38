"""``{% translate %}`` through workflow_app/translate_tags.py renders what Django's renders."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, engines
from django.test import override_settings
from django.utils import translation

from workflow_app import kept_output, translate_tags

SOURCE = (
    "{% load i18n %}"
    '[{% translate "受理" %}]'
    '[{% trans "受理" %}]'
    '[{% translate "a & <b>" %}]'
    '[{% translate "100%% 完成" %}]'
    '[{% translate "受理" as label %}{{ label }}]'
    "[{% translate word %}]"
    "[{% translate markup %}]"
    '[{% translate "受理"|upper %}]'
    '[{% translate "May" context "month name" %}]'
    '[{% translate "受理" noop %}]'
    '[{% translate "不存在的文字" %}]'
    "[{% blocktranslate %}受理{% endblocktranslate %}]"
    '{% for i in "ab" %}[{% translate "退回" %}]{% endfor %}'
)


def _render(engine: Engine, autoescape: bool) -> str:
    context = Context({"word": "受理", "markup": "<i>x</i>"}, autoescape=autoescape)
    return engine.from_string(SOURCE).render(context)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_the_output_is_djangos(language, autoescape):
    ours = engines["django"].engine
    djangos = Engine(libraries={"i18n": "django.templatetags.i18n"})
    with translation.override(language):
        expected = _render(djangos, autoescape)
        assert _render(ours, autoescape) == expected
        template = ours.from_string(SOURCE)
        context = {"word": "受理", "markup": "<i>x</i>"}
        # kept from the first render, and still right
        for _ in range(2):
            assert template.render(Context(context, autoescape=autoescape)) == expected
    if language == "en":
        assert "[Accept]" in expected


def test_a_template_rendered_in_one_language_then_another_says_each():
    ours = engines["django"].engine.from_string(SOURCE)
    djangos = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(SOURCE)
    for language in ("en", "zh-hans", "en", "zh-hans"):
        with translation.override(language):
            expected = djangos.render(Context({}))
            assert ours.render(Context({})) == expected
            assert expected.startswith("[Accept][Accept]" if language == "en" else "[受理][受理]")


def test_only_literal_texts_are_kept():
    template = engines["django"].engine.from_string(SOURCE)
    kinds = [type(n).__name__ for n in template.nodelist if "Translate" in type(n).__name__]
    # the two literals, the escaped literal, the percent, the context, noop, the unknown text and
    # the one in the loop (inside the for node) are kept; as, a variable twice and a filter not
    assert kinds.count("LiteralTranslateNode") == 7
    assert kinds.count("TranslateNode") == 4


def test_the_sites_templates_load_it():
    library = engines["django"].engine.template_libraries["i18n"]
    assert library is translate_tags.register
    assert "blocktranslate" in library.tags and "language_name" in library.filters


def test_no_other_tag_library_label_names_two_modules():
    """The settings silence templates.W003 for the "i18n" override; any other clash is found."""
    warnings = [w for w in engines["django"].check() if w.id == "templates.W003"]
    assert [w.msg for w in warnings] == [
        "'i18n' is used for multiple template tag modules: "
        "'django.templatetags.i18n', 'workflow_app.translate_tags'"
    ]


def test_a_change_of_the_language_settings_drops_what_was_kept():
    template = engines["django"].engine.from_string('{% load i18n %}{% translate "受理" %}')
    with translation.override("en"):
        assert template.render(Context({})) == "Accept"
        node = template.nodelist[1]
        node._kept = dict.fromkeys(node._kept, "STALE")
        assert template.render(Context({})) == "STALE"  # what is kept is what is answered
        before = kept_output.generation()
        with override_settings(LANGUAGE_CODE="en"):
            assert kept_output.generation() == before + 1
            assert template.render(Context({})) == "Accept"


def test_a_changed_message_catalog_drops_what_was_kept(tmp_path):
    """The development server reloads catalogs (not the process) when a .mo file changes."""
    from django.utils.autoreload import file_changed

    before = kept_output.generation()
    file_changed.send(sender=None, file_path=tmp_path / "app.py")
    assert kept_output.generation() == before
    responses = file_changed.send(sender=None, file_path=tmp_path / "locale/en/django.mo")
    assert kept_output.generation() == before + 1
    # Django's own receiver still answers True there (no restart): ours says nothing
    assert all(response is None for receiver, response in responses if "kept" in repr(receiver))
