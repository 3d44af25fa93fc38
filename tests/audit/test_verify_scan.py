"""``verify_audit``'s scan: on PostgreSQL the canonical JSON is written by orjson from a
server-side cursor and the chains are split over processes. Neither may report a sound entry nor
miss an altered one, whatever the entry holds; on SQLite the same tests run the defining path."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from workflow_app.audit.models import TransitionLog
from workflow_app.audit.services import (
    audit_append,
    chain_key_ranges,
    entry_hash,
    verify_all_chains,
    verify_chains,
)

# what the two JSON writers could disagree on: escapes, control characters (not NUL: neither
# PostgreSQL text nor jsonb holds it, and form and API fields refuse it), non-ASCII text and
# keys (sorted by code point), numbers beyond 64 bits, floats, nesting, null
AWKWARD_DATA = [
    {"msg": 'quote " backslash \\ slash / tab \t newline \n', "params": {}},
    {"控制": "\x01\x1f\x7f", "Zeta": 1, "alpha": 2, "éa": 3, "ea": 4, "😀": "emoji 😀"},
    {"big": 2**70, "neg": -(2**63), "floats": [0.1, 1e16, 1e-7, 2.5, -0.0, 1.0, 123456.789]},
    {"nested": {"b": [1, {"z": None, "a": True}], "a": {"y": False, "x": []}}, "empty": {}},
    {"text": "\u2028\u2029 line separators, <script>&amp;", "n": 0},
]


def _awkward_chain(case_id: int) -> None:
    start = timezone.now().replace(microsecond=123456)
    for i, data in enumerate(AWKWARD_DATA):
        audit_append(
            case_kind="objection",
            case_id=case_id,
            from_state=f"s{i}",
            to_state=f"s{i + 1}",
            reason=f'理由 "{i}"\\\n',
            task="objection_intake",
            data=data,
            at=start + datetime.timedelta(microseconds=i),
        )


@pytest.mark.django_db
def test_awkward_content_verifies_and_each_field_change_is_found():
    _awkward_chain(1)
    _awkward_chain(2)
    assert verify_chains() == []
    entry = TransitionLog.objects.get(chain_key="objection:1", seq=3)
    data = dict(entry.data)
    data["floats"] = [*data["floats"][:-1], 123456.788]
    TransitionLog.objects.filter(pk=entry.pk).update(data=data)
    other = TransitionLog.objects.get(chain_key="objection:2", seq=5)
    TransitionLog.objects.filter(pk=other.pk).update(
        at=other.at + datetime.timedelta(microseconds=1)
    )
    problems = verify_chains()
    assert [(p.chain_key, p.seq, p.message) for p in problems] == [
        ("objection:1", 3, "content does not match its hash (altered)"),
        ("objection:2", 5, "content does not match its hash (altered)"),
    ]


@pytest.mark.django_db
def test_stored_hashes_are_the_defining_ones():
    """The scan is an optimisation of :func:`entry_hash`, not a second definition."""
    _awkward_chain(1)
    for e in TransitionLog.objects.order_by("seq"):
        assert e.hash == entry_hash(
            chain_key=e.chain_key,
            seq=e.seq,
            case_kind=e.case_kind,
            case_id=e.case_id,
            event=e.event,
            from_state=e.from_state,
            to_state=e.to_state,
            actor_id=e.actor_id,
            actor_label=e.actor_label,
            at=e.at,
            reason=e.reason,
            task=e.task,
            data=e.data,
            prev_hash=e.prev_hash,
        )


@pytest.mark.django_db
def test_key_ranges_cover_every_chain_once():
    for case_id in range(1, 31):
        audit_append(case_kind="objection", case_id=case_id, to_state="submitted")
    ranges = chain_key_ranges(4, min_chains=1)
    assert len(ranges) == 4 and ranges[0][0] is None and ranges[-1][1] is None
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    seen: list[str] = []
    for low, high in ranges:
        qs = TransitionLog.objects.all()
        if low is not None:
            qs = qs.filter(chain_key__gte=low)
        if high is not None:
            qs = qs.filter(chain_key__lt=high)
        seen += list(qs.values_list("chain_key", flat=True))
    assert sorted(seen) == sorted(f"objection:{i}" for i in range(1, 31))
    # a small log stays in one process
    assert chain_key_ranges(4) == [(None, None)]


@pytest.mark.django_db
def test_key_ranges_share_the_entries_not_the_chains():
    """A process's work is its entries: ten long chains and ninety short ones are split where
    half the entries lie, not half the chains."""
    for case_id in range(10, 20):  # keys "objection:1x" sort before "objection:2x"…
        for _ in range(10):
            audit_append(case_kind="objection", case_id=case_id, to_state="submitted")
    for case_id in range(20, 110):
        audit_append(case_kind="objection", case_id=case_id, to_state="submitted")
    (low_range, high_range) = chain_key_ranges(2, min_chains=1)

    def entries(low, high):
        qs = TransitionLog.objects.all()
        if low is not None:
            qs = qs.filter(chain_key__gte=low)
        if high is not None:
            qs = qs.filter(chain_key__lt=high)
        return qs.count()

    first, second = entries(*low_range), entries(*high_range)
    assert first + second == 190
    assert abs(first - second) <= 10  # at most one chain's length apart


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="processes share the database: PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_parallel_verification_reports_what_one_process_reports(capsys):
    for case_id in range(1, 41):
        if case_id % 10 == 0:
            _awkward_chain(case_id)
        else:
            audit_append(case_kind="repair", case_id=case_id, to_state="submitted")
    assert verify_all_chains(jobs=2, min_chains=1) == []
    victim = TransitionLog.objects.get(chain_key="objection:30", seq=2)
    TransitionLog.objects.filter(pk=victim.pk).update(reason="rewritten")
    TransitionLog.objects.filter(chain_key="repair:7").delete()
    expected = verify_chains()
    assert [str(p) for p in expected] == [str(p) for p in verify_all_chains(jobs=3, min_chains=1)]
    assert {p.chain_key for p in expected} == {"objection:30", "repair:7"}
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_audit", "--jobs", "2")
    assert exit_.value.code == 1
    assert "objection:30#2" in capsys.readouterr().err
