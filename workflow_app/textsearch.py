"""Looking for part of a text (a name) in a column: ``icontains``, served on PostgreSQL by the
column's indexes.

``icontains`` compares ``UPPER(column) LIKE UPPER('%…%')``. A trigram index
(``workflow_app.indexes.trigram_index``) serves it for three characters or more; text of two
characters has no trigram — and two characters are how a company is searched for in Chinese
(华为, 腾讯) — so PostgreSQL read the whole table for it (0.19 s at 1,000,000 subjects, both
cores). A *bigram* index (``workflow_app.indexes.bigram_index``: a GIN index on the column's
two-character pieces, ``cw_bigrams(UPPER(column))``) serves those: :func:`contains` adds the
condition the index answers to the ``icontains`` it keeps, which makes the result exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, Value

# the length of text a bigram index serves where a trigram index cannot
BIGRAM_LENGTH = 2

# what case references and shown identifiers (统一社会信用代码, masked resident IDs) are made
# of: text with anything else — a name in Chinese — cannot be part of one
_CODE_TEXT = re.compile(r"[0-9A-Z*\-]+")


def may_be_code(q: str) -> bool:
    """Whether ``q`` can be part of a reference or a shown identifier: other text is not
    looked for in them (a search ORed with a column no index serves reads every row)."""
    return bool(_CODE_TEXT.fullmatch(q.upper()))


class ContainsBigrams(Func):
    """True where ``column`` has every two-character piece of ``text`` (case-insensitively):
    ``cw_bigrams(UPPER(column)) @> cw_bigrams(UPPER(text))`` — the expression of the column's
    bigram index, which PostgreSQL then reads. Only on PostgreSQL, where the migrations create
    ``cw_bigrams``."""

    output_field = BooleanField()

    def __init__(self, column: str, text: str) -> None:
        super().__init__(F(column), Value(text))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        column, column_params = compiler.compile(self.source_expressions[0])
        text, text_params = compiler.compile(self.source_expressions[1])
        sql = f"cw_bigrams(UPPER({column})) @> cw_bigrams(UPPER({text}))"
        return sql, [*column_params, *text_params]


def contains(field: str, q: str, *, bigram_index: bool = False) -> Q:
    """``field`` holds ``q``, case-insensitively. ``bigram_index``: the field's column has a
    bigram index, which answers text of two characters on PostgreSQL."""
    cond = Q(**{f"{field}__icontains": q})
    if bigram_index and len(q) == BIGRAM_LENGTH and connection.vendor == "postgresql":
        cond &= Q(ContainsBigrams(field, q))
    return cond


@contextmanager
def planned_for_the_text(q: str) -> Iterator[None]:
    """Run a search's statements (in this block: a list page's lookups, count and rows) with
    plans made for the text searched. On PostgreSQL a statement run a few times on a
    connection is prepared and then may get one *generic* plan for every value: planned for a
    rare name, a search for a word every subject has (公司) read both name indexes whole —
    0.25 s for the subjects' lookup, 0.19 s for the count, measured at 1,000,000 subjects,
    where the plan for that word stops after the rows it needs (4 ms). Inside, the block is
    one transaction planning each statement for its values (``plan_cache_mode``, set for the
    transaction and, in a longer one, back as it was after the block); without a search text,
    or elsewhere, nothing changes."""
    if not q or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('plan_cache_mode'), "
                "set_config('plan_cache_mode', 'force_custom_plan', true)"
            )
            before = cursor.fetchone()[0]
        yield
        # an error rolls the block back, and the setting with it
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [before])
