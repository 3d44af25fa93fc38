"""workflow_app/rows.py: what the pages' Python-rendered rows escape with."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from workflow_app.rows import esc, labels, safe_rows


def test_esc_escapes_as_django_does_and_keeps_safe_text():
    for value in ['<a href="x">&\'</a>', "普通文字", 42, None, gettext_lazy("办理")]:
        assert esc(value) == str(escape(value))
    assert esc(mark_safe("<em>已标记</em>")) == "<em>已标记</em>"  # as autoescape leaves it


def test_labels_escape_and_rows_are_safe_once():
    assert labels("<b>", "部门") == ["&lt;b&gt;", "部门"]
    rows = safe_rows(["<tr><td>1</td></tr>", "<tr><td>2</td></tr>"])
    assert str(rows) == "<tr><td>1</td></tr>\n<tr><td>2</td></tr>" and hasattr(rows, "__html__")


def test_truncate_cuts_as_the_template_filter_does():
    from django.template.defaultfilters import truncatechars

    from workflow_app.rows import truncate

    for text in ["", "短", "行政处罚" * 20, "x" * 40, "x" * 41, "e\u0301" * 30, "Cafe\u0301 " * 12]:
        for length in (1, 10, 40):
            assert truncate(text, length) == truncatechars(text, length), (text, length)


def test_texts_are_made_once_a_language(monkeypatch):
    from django.utils import translation

    from workflow_app import rows
    from workflow_app.rows import texts

    monkeypatch.setattr(rows, "_TEXTS", {})

    built = []

    def build():
        built.append(translation.get_language())
        return {"withdrawn": gettext_lazy("已撤回")}

    with translation.override("zh-hans"):
        assert texts("test-rows", build) == {"withdrawn": "已撤回"}
        assert texts("test-rows", build) == {"withdrawn": "已撤回"}
    with translation.override("en"):
        assert texts("test-rows", build) == {"withdrawn": "Withdrawn"}
    assert built == ["zh-hans", "en"]
    with pytest.raises(TypeError):  # shared by every page: read-only
        texts("test-rows", build)["withdrawn"] = "changed"


def test_minute_texts_write_djangos_localtime():
    import datetime

    from django.utils import timezone

    from workflow_app.rows import minute_texts

    values = [
        datetime.datetime(2026, 12, 31, 16, 30, 59, tzinfo=datetime.UTC),  # next day in Beijing
        datetime.datetime(2026, 3, 1, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    ]
    for zone in ("Asia/Shanghai", "UTC", "America/New_York"):
        with timezone.override(zone):
            minute = minute_texts()
            for value in values:
                assert minute(value) == timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            assert minute(None) == ""
    with timezone.override("Asia/Shanghai"):
        assert minute_texts()(values[0]) == "2027-01-01 00:30"
        with pytest.raises(ValueError):  # as localtime(): a naive time is an error
            minute_texts()(datetime.datetime(2026, 1, 1, 12, 0))
