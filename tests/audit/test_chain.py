"""The transition log is tamper-evident: altered, relinked and removed entries are detected."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.factories import UserFactory
from workflow_app.audit.models import AuditChain, TransitionLog
from workflow_app.audit.services import audit_append, timeline_for, verify_chains

pytestmark = pytest.mark.django_db


def _chain(case_id=1, n=3, actor=None):
    states = ["", "submitted", "accepted", "forwarded", "resolved"]
    for i in range(n):
        audit_append(
            case_kind="objection",
            case_id=case_id,
            from_state=states[i],
            to_state=states[i + 1],
            actor=actor,
            reason=f"step {i}",
        )


def _verify_exit():
    try:
        call_command("verify_audit")
    except SystemExit as exc:
        return exc.code
    return 0


def test_append_builds_a_linked_chain():
    user = UserFactory(username="centre", centre=True)
    _chain(n=3, actor=user)
    entries = list(TransitionLog.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "" and entries[1].prev_hash == entries[0].hash
    assert entries[0].actor_label == "centre"
    head = AuditChain.objects.get(key="objection:1")
    assert (head.length, head.head_hash) == (3, entries[2].hash)
    assert verify_chains() == []
    assert _verify_exit() == 0


def test_timeline_shape():
    _chain(n=2)
    tl = timeline_for("objection", 1)
    assert [(e["from"], e["to"]) for e in tl] == [("", "submitted"), ("submitted", "accepted")]
    assert tl[0]["actor"] == "system"


def test_altered_entry_is_named(capsys):
    _chain(n=3)
    victim = TransitionLog.objects.get(seq=2)
    TransitionLog.objects.filter(pk=victim.pk).update(reason="rewritten")
    problems = verify_chains()
    assert problems[0].entry_id == victim.pk and "altered" in problems[0].message
    assert _verify_exit() == 1
    err = capsys.readouterr().err
    assert "objection:1#2" in err and f"entry id {victim.pk}" in err


def test_removed_middle_entry_is_detected():
    _chain(n=3)
    TransitionLog.objects.filter(seq=2).delete()
    problems = verify_chains()
    assert problems and "removed" in problems[0].message
    assert problems[0].seq == 3


def test_removed_last_entry_is_detected():
    _chain(n=3)
    TransitionLog.objects.filter(seq=3).delete()
    problems = verify_chains()
    assert len(problems) == 1 and "head records #3" in problems[0].message
    assert _verify_exit() == 1


def test_rehashed_forgery_breaks_the_next_link():
    """Someone rewrites entry 2 and recomputes its hash: entry 3 no longer links to it."""
    from workflow_app.audit.services import _hash_of

    _chain(n=3)
    e2 = TransitionLog.objects.get(seq=2)
    e2.reason = "forged"
    e2.hash = _hash_of(e2)
    e2.save()
    problems = verify_chains()
    assert problems[0].seq == 3 and "link" in problems[0].message


def test_chains_are_independent():
    _chain(case_id=1, n=2)
    _chain(case_id=2, n=2)
    TransitionLog.objects.filter(chain_key="objection:2", seq=1).update(reason="x")
    assert verify_chains(chain_key="objection:1") == []
    assert {p.chain_key for p in verify_chains()} == {"objection:2"}


def test_deleting_a_case_keeps_its_trail(applicant, company, samr):
    from objections.models import Objection
    from tests.factories import CreditRecordFactory
    from tests.processes.helpers import file_objection

    record = CreditRecordFactory(subject=company, department=samr)
    case = file_objection(applicant, record)["id"]
    before = TransitionLog.objects.filter(case_kind="objection", case_id=case).count()
    assert before >= 1
    Objection.objects.filter(pk=case).delete()
    assert not Objection.objects.filter(pk=case).exists()
    assert TransitionLog.objects.filter(case_kind="objection", case_id=case).count() == before
    assert verify_chains() == []


def test_verify_audit_reports_ok(capsys):
    _chain(case_id=1, n=2)
    _chain(case_id=2, n=3)
    assert _verify_exit() == 0
    assert "OK: 2 chains, 5 entries verified" in capsys.readouterr().out


def test_a_whole_removed_chain_is_detected(capsys):
    _chain(case_id=5, n=2)
    TransitionLog.objects.filter(chain_key="objection:5").delete()
    problems = verify_chains()
    assert [p.chain_key for p in problems] == ["objection:5"]
    assert "removed" in problems[0].message
    assert _verify_exit() == 1
    assert "objection:5" in capsys.readouterr().err


def test_an_entry_without_a_head_is_detected():
    _chain(case_id=6, n=1)
    AuditChain.objects.filter(key="objection:6").delete()
    problems = verify_chains()
    assert problems and "no head" in problems[0].message


def test_the_log_is_read_only_in_the_admin(rf):
    from django.contrib import admin

    _chain(n=1)
    request = rf.get("/admin/")
    request.user = UserFactory(username="root", administrator=True)
    model_admin = admin.site._registry[TransitionLog]
    entry = TransitionLog.objects.get()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)


def test_an_append_to_a_chain_is_a_lock_and_one_write_on_postgresql():
    """The head is locked, then the entry's INSERT and the head's UPDATE go together (one
    statement on PostgreSQL, two elsewhere); the entry returned is the stored row."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    _chain(n=1)
    with transaction.atomic(), CaptureQueriesContext(connection) as q:
        entry = audit_append(
            case_kind="objection",
            case_id=1,
            from_state="submitted",
            to_state="accepted",
            data={"msg": "objection.accepted", "amount": 1.5, "nested": {"k": [1, "二"]}},
        )
    writes = 1 if connection.vendor == "postgresql" else 2
    assert len(q.captured_queries) == 1 + writes
    assert "FOR UPDATE" in q.captured_queries[0]["sql"] or connection.vendor != "postgresql"
    if connection.vendor == "postgresql":
        write = q.captured_queries[1]["sql"]
        assert "INSERT INTO" in write and "UPDATE" in write
    stored = TransitionLog.objects.get(pk=entry.pk)
    assert entry._state.adding is False
    assert (stored.seq, stored.hash, stored.data) == (2, entry.hash, entry.data)
    head = AuditChain.objects.get(key="objection:1")
    assert (head.length, head.head_hash) == (2, entry.hash)
    assert verify_chains() == []


@pytest.mark.parametrize("exists", [False, True])
def test_a_case_s_first_entry_creates_its_chain_in_one_statement(exists):
    """``new_chain`` (a case's first entry) skips the read of a head that is not there: on
    PostgreSQL the head and the entry go in with one statement; elsewhere the statement that
    creates the head also locks it — and if the chain does exist after all, the entry still goes
    after its last one."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    if exists:
        _chain(n=2)
    with transaction.atomic(), CaptureQueriesContext(connection) as q:
        entry = audit_append(case_kind="objection", case_id=1, to_state="submitted", new_chain=True)
    if connection.vendor == "postgresql":
        # one statement; if the chain existed, it wrote nothing, and the usual path followed
        assert len(q.captured_queries) == (3 if exists else 1)
        assert "DO NOTHING" in q.captured_queries[0]["sql"]
    else:
        assert len(q.captured_queries) == 3
        assert "ON CONFLICT" in q.captured_queries[0]["sql"]
    assert entry.seq == (3 if exists else 1)
    assert TransitionLog.objects.get(pk=entry.pk).hash == entry.hash
    head = AuditChain.objects.get(key="objection:1")
    assert (head.length, head.head_hash) == (entry.seq, entry.hash)
    assert verify_chains() == []


def test_a_first_entry_in_one_statement_stores_what_it_hashed(django_db_setup):
    """Every column cast to its type in the first entry's INSERT … SELECT: awkward content is
    stored as hashed (verification recomputes each hash from the stored row), and an over-long
    value is refused, as a plain INSERT refuses it — never cut short."""
    from django.db import DatabaseError, connection, transaction

    actor = UserFactory(username="审核员")
    with transaction.atomic():
        entry = audit_append(
            case_kind="objection",
            case_id=5,
            from_state="",
            to_state="submitted",
            actor=actor,
            reason='理由：\n含换行与 "引号"',
            task="objection_intake#1",
            data={"金额": 3000, "比例": 0.1, "list": [1, None, "二"], "nested": {"a": 1e-7}},
            new_chain=True,
        )
    stored = TransitionLog.objects.get(pk=entry.pk)
    assert (stored.seq, stored.prev_hash, stored.actor_id) == (1, "", actor.pk)
    assert stored.data == entry.data and stored.at == entry.at and stored.reason == entry.reason
    assert AuditChain.objects.get(key="objection:5").length == 1
    with transaction.atomic():
        system = audit_append(case_kind="repair", case_id=6, to_state="submitted", new_chain=True)
    assert TransitionLog.objects.get(pk=system.pk).actor_id is None
    assert verify_chains() == []
    if connection.vendor == "postgresql":  # (SQLite does not hold text to its length)
        with pytest.raises(DatabaseError), transaction.atomic():
            audit_append(case_kind="objection", case_id=7, task="x" * 1000, new_chain=True)
        assert not AuditChain.objects.filter(key="objection:7").exists()
