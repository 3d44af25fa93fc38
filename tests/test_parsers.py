"""The JSON parser (workflow_app/parsers.py): orjson, and DRF's parser where orjson would read a
body differently."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework import parsers as drf_parsers

from workflow_app.parsers import JSONParser


def _parse(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, bool]:
    """The parsed value, and whether DRF's own parser was asked."""
    asked = []
    drf_parse = drf_parsers.JSONParser.parse

    def spy(self, stream, media_type=None, parser_context=None):
        asked.append(True)
        return drf_parse(self, stream, media_type, parser_context)

    monkeypatch.setattr(drf_parsers.JSONParser, "parse", spy)
    return JSONParser().parse(io.BytesIO(body), "application/json", {}), bool(asked)


@pytest.mark.parametrize(
    "value",
    [
        # digits inside texts: a uuid's hex, a long reference, a colon and digits with a letter
        [{"external_id": "IMP-aac9a070193341849473026395477abc", "n": 1}],
        {"reference": "12345678901234567890123", "note": "编号A12345678901234567890"},
        ["x1234567890123456789012345"],
    ],
)
def test_long_digit_runs_inside_texts_are_read_by_orjson(value, monkeypatch):
    body = json.dumps(value, ensure_ascii=False).encode()
    parsed, asked = _parse(body, monkeypatch)
    assert parsed == value and not asked


@pytest.mark.parametrize(
    "body",
    [
        b'{"n": 12345678901234567890123}',
        b"[1, 12345678901234567890123]",
        b"[12345678901234567890123]",
        b"  -12345678901234567890123",
        b'{"n":\n\t12345678901234567890123}',
        b'{"text": ", 12345678901234567890123"}',  # looks like one: slower, still right
    ],
)
def test_a_long_number_goes_to_the_standard_library_and_stays_exact(body, monkeypatch):
    parsed, asked = _parse(body, monkeypatch)
    assert asked and parsed == json.loads(body)
