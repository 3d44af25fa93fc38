"""Appending to and verifying the hash-chained transition log (SPEC §10).

One chain per case: appending locks only that case's chain head, so transitions on different
cases never wait on each other. An entry's hash covers every content field and the previous
entry's hash; the head stores the chain's length and last hash, so removing the last entry is
detected as well as altering or removing any other.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

import orjson
from django.db import connection, transaction
from django.utils import timezone

from workflow_app.compiled import CompiledQuery
from workflow_app.registry.bulk import where_in
from workflow_app.writes import column_casts, row_sql, row_values

from .models import AuditChain, TransitionLog

GENESIS = ""


def _iso(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    chain_key: str,
    seq: int,
    case_kind: str,
    case_id: int,
    event: str,
    from_state: str,
    to_state: str,
    actor_id: int | None,
    actor_label: str,
    at: datetime.datetime,
    reason: str,
    task: str,
    data: Any,
    prev_hash: str,
) -> str:
    payload = {
        "chain_key": chain_key,
        "seq": seq,
        "case_kind": case_kind,
        "case_id": int(case_id),
        "event": event,
        "from": from_state,
        "to": to_state,
        "actor_id": actor_id,
        "actor": actor_label,
        "at": _iso(at),
        "reason": reason,
        "task": task,
        "data": data,
        "prev": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hash_of(entry: TransitionLog) -> str:
    return entry_hash(
        chain_key=entry.chain_key,
        seq=entry.seq,
        case_kind=entry.case_kind,
        case_id=entry.case_id,
        event=entry.event,
        from_state=entry.from_state,
        to_state=entry.to_state,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        at=entry.at,
        reason=entry.reason,
        task=entry.task,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )


def _stored_float(text: str) -> float | int:
    """A JSON number as it reads back from the database: PostgreSQL's jsonb keeps numbers as
    ``numeric`` and writes them without an exponent or a negative zero, so ``1e+16`` comes back
    as the integer 10000000000000000 and ``-0.0`` as ``0.0``; hashing the value as it will read
    back keeps such an entry verifiable."""
    value = float(text)
    if value == 0:
        return 0.0
    if "e+" in text.lower() and value.is_integer():
        return int(value)
    return value


_HEAD_LOCKED = CompiledQuery(
    lambda key: AuditChain.objects.select_for_update().filter(key=key).order_by("pk")[:1], str
)


def _lock_head(key: str, *, new: bool = False) -> AuditChain:
    """The chain's head, locked. ``new``: the chain is most likely new (the first entry of a
    case just created), so go straight to the statement that creates it."""
    if not new:
        head = _HEAD_LOCKED.first(key)
        if head is not None:
            return head
    # a new chain: create the head, or, if it exists (another transaction created it meanwhile,
    # or ``new`` was wrong), wait for and lock that row — one statement either way (the
    # conflict's UPDATE takes the row lock, as SELECT ... FOR UPDATE does; PostgreSQL and
    # SQLite ≥ 3.35 both speak it)
    table = connection.ops.quote_name(AuditChain._meta.db_table)
    key_column = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_column}, length, head_hash) VALUES (%s, 0, '') "
            f"ON CONFLICT ({key_column}) DO UPDATE SET {key_column} = EXCLUDED.{key_column} "
            "RETURNING id, length, head_hash",
            [key],
        )
        pk, length, head_hash = cursor.fetchone()
    return AuditChain.from_db(
        connection.alias, ["id", "key", "length", "head_hash"], [pk, key, length, head_hash]
    )


class AuditEntry(TypedDict):
    """What an entry records — :func:`audit_append`'s arguments, an item of
    :func:`audit_append_many`'s list. Left out: ``event`` ``transition``, an empty state,
    reason or task, no actor (``system``), no data, the time now."""

    case_kind: str
    case_id: int
    event: NotRequired[str]
    from_state: NotRequired[str]
    to_state: NotRequired[str]
    actor: NotRequired[Any]
    reason: NotRequired[str]
    task: NotRequired[str]
    data: NotRequired[dict[str, Any] | None]
    at: NotRequired[datetime.datetime | None]


_ENTRY_KEYS = AuditEntry.__required_keys__ | AuditEntry.__optional_keys__


def _entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """An entry's content as stored and hashed, without its place in the chain (seq, prev)."""
    unknown = entry.keys() - _ENTRY_KEYS
    if unknown:
        raise TypeError(f"unknown audit entry field(s) {sorted(unknown)}")
    case_kind, case_id, actor = entry["case_kind"], entry["case_id"], entry.get("actor")
    return {
        "chain_key": f"{case_kind}:{case_id}",
        "case_kind": case_kind,
        "case_id": int(case_id),
        "event": entry.get("event", "transition"),
        "from_state": str(entry.get("from_state") or ""),
        "to_state": str(entry.get("to_state") or ""),
        "actor_id": getattr(actor, "pk", None),
        "actor_label": getattr(actor, "username", "") if actor is not None else "system",
        "at": entry.get("at") or timezone.now(),
        "reason": str(entry.get("reason") or ""),
        "task": str(entry.get("task") or ""),
        # JSON round trip so the stored value and the hashed value are the same
        "data": json.loads(
            json.dumps(entry.get("data") or {}, ensure_ascii=False, default=str),
            parse_float=_stored_float,
        ),
    }


def _entry_after(fields: dict[str, Any], seq: int, prev_hash: str) -> TransitionLog:
    placed = {**fields, "seq": seq, "prev_hash": prev_hash}
    return TransitionLog(**placed, hash=entry_hash(**placed))


def audit_append(*, new_chain: bool = False, **entry: Unpack[AuditEntry]) -> TransitionLog:
    """Append an entry (:class:`AuditEntry`) to the case's chain, inside the caller's
    transaction. ``new_chain``: this is the first entry of a case created in this transaction
    (saves the read of a head that is not there; correct either way)."""
    fields = _entry_fields(entry)
    key = fields["chain_key"]
    with transaction.atomic(savepoint=False):
        if new_chain:
            first = _entry_after(fields, 1, "")
            if _insert_first(first):
                return first
        head = _lock_head(key, new=new_chain)
        row = _entry_after(fields, head.length + 1, head.head_hash)
        head.length = row.seq
        head.head_hash = row.hash
        _insert_and_advance(row, head)
        return row


def audit_heads_locked(keys: Iterable[str], *, skip_locked: bool = False) -> dict[str, AuditChain]:
    """The heads of these chains, locked in the order of their keys (a chain without a head gets
    one). ``skip_locked``: leave out, without waiting, a head another transaction holds — a
    batch job then leaves that case for its next run, and does not wait for, or deadlock with,
    a transition of the case (which takes the head before the case's other rows). A head
    another transaction is creating at that moment (a case's first entry, not yet committed)
    is still waited for: a unique key's INSERT waits for the other's to commit or roll back.
    Call inside a transaction."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    qs = AuditChain.objects.select_for_update(skip_locked=skip_locked).order_by("key")
    heads = {head.key: head for head in where_in(qs, "key", wanted)}
    missing = [k for k in wanted if k not in heads]
    if missing and skip_locked:
        # a head that exists but was skipped is not to be created: only the truly missing ones
        existing = set(where_in(AuditChain.objects.values_list("key", flat=True), "key", missing))
        missing = [k for k in missing if k not in existing]
    if missing:
        heads.update(_heads_created(missing))
    return heads


def _heads_created(keys: list[str]) -> dict[str, AuditChain]:
    """Heads for chains that have none, locked — as :func:`_lock_head` makes one, for all the
    keys in one statement (a head another transaction created meanwhile is waited for and
    locked instead)."""
    table = connection.ops.quote_name(AuditChain._meta.db_table)
    key_column = connection.ops.quote_name("key")
    found: dict[str, AuditChain] = {}
    for start in range(0, len(keys), 300):  # below SQLite's limit of variables
        part = keys[start : start + 300]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, length, head_hash) VALUES "
                + ", ".join(["(%s, 0, '')"] * len(part))
                + f" ON CONFLICT ({key_column}) DO UPDATE SET {key_column} = EXCLUDED.{key_column}"
                f" RETURNING id, {key_column}, length, head_hash",
                part,
            )
            for pk, key, length, head_hash in cursor.fetchall():
                found[key] = AuditChain.from_db(
                    connection.alias,
                    ["id", "key", "length", "head_hash"],
                    [pk, key, length, head_hash],
                )
    return found


def audit_append_many(
    entries: Sequence[AuditEntry], *, heads: dict[str, AuditChain] | None = None
) -> list[TransitionLog]:
    """Append several entries (:class:`AuditEntry`) in the caller's transaction: the heads locked in one statement (or given,
    locked, by :func:`audit_heads_locked`), the entries inserted together, the heads advanced
    in one UPDATE. Entries of one chain follow each other in the order given; every hash is
    the one :func:`audit_append` would write, one entry at a time."""
    if not entries:
        return []
    prepared = [_entry_fields(e) for e in entries]
    with transaction.atomic(savepoint=False):
        if heads is None:
            heads = audit_heads_locked(p["chain_key"] for p in prepared)
        missing = {p["chain_key"] for p in prepared} - heads.keys()
        if missing:
            raise ValueError(f"audit chains not locked: {sorted(missing)}")
        rows = []
        advanced: dict[str, AuditChain] = {}
        for fields in prepared:
            head = heads[fields["chain_key"]]
            entry = _entry_after(fields, head.length + 1, head.head_hash)
            head.length, head.head_hash = entry.seq, entry.hash
            advanced[head.key] = head
            rows.append(entry)
        TransitionLog.objects.bulk_create(rows, batch_size=500)
        AuditChain.objects.bulk_update(list(advanced.values()), ["length", "head_hash"])
    return rows


# PostgreSQL, a case's first entry: the chain's head — created with the entry already counted —
# and the entry in one statement. The entry goes in only if the head was created by this
# statement: should the chain exist after all (or another transaction create it first, which
# this statement waits for), nothing is written and the caller appends after the chain's last
# entry as usual. Each value is cast to its column's type (an INSERT … SELECT does not infer
# them); text columns take text, so an over-long value is refused, never cut short.
_FIRST_SQL: dict[str, str] = {}


def _insert_first(entry: TransitionLog) -> bool:
    row = row_sql(connection, TransitionLog, "insert_returning")
    if connection.vendor != "postgresql" or row is None:
        return False
    sql = _FIRST_SQL.get(connection.alias)
    if sql is None:
        qn = connection.ops.quote_name
        types = column_casts(row.fields, connection)
        sql = _FIRST_SQL[connection.alias] = (
            f"WITH {qn('head')} AS (INSERT INTO {qn(AuditChain._meta.db_table)} "
            f"({qn('key')}, {qn('length')}, {qn('head_hash')}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({qn('key')}) DO NOTHING RETURNING {qn('id')}), "
            f"{qn('entry')} AS ({row.sql.partition(' VALUES ')[0]} "
            f"SELECT {', '.join(f'CAST(%s AS {t})' for t in types)} FROM {qn('head')} "
            f"RETURNING {qn('id')}) "
            f"SELECT (SELECT {qn('id')} FROM {qn('entry')})"
        )
    params = [entry.chain_key, entry.hash, *row_values(entry, row, "insert_returning", connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0]
    if pk is None:
        return False
    entry.pk = pk
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


# PostgreSQL: the entry's INSERT and the head's UPDATE as one statement (a data-modifying WITH),
# one round trip fewer on every transition. The INSERT is the one workflow_app/writes.py builds
# once per model, every value a parameter prepared as the ORM's INSERT prepares it.
_APPEND_SQL: dict[str, str] = {}


def _insert_and_advance(entry: TransitionLog, head: AuditChain) -> None:
    row = row_sql(connection, TransitionLog, "insert_returning")
    if connection.vendor != "postgresql" or row is None:
        entry.save(force_insert=True)
        head.save(update_fields=["length", "head_hash"])
        return
    sql = _APPEND_SQL.get(connection.alias)
    if sql is None:
        qn = connection.ops.quote_name
        sql = _APPEND_SQL[connection.alias] = (
            f"WITH {qn('entry')} AS ({row.sql}), {qn('head')} AS ("
            f"UPDATE {qn(AuditChain._meta.db_table)} SET {qn('length')} = %s, "
            f"{qn('head_hash')} = %s WHERE {qn('id')} = %s) "
            f"SELECT {qn('id')} FROM {qn('entry')}"
        )
    params = row_values(entry, row, "insert_returning", connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, head.length, head.head_hash, head.pk])
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False
    entry._state.db = connection.alias


@dataclass(frozen=True)
class Problem:
    chain_key: str
    seq: int | None
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.chain_key}#{self.seq}" if self.seq is not None else self.chain_key
        ident = f" (entry id {self.entry_id})" if self.entry_id is not None else ""
        return f"{where}{ident}: {self.message}"


# the columns verification reads, in this order (tuples: no model instance per entry)
_VERIFY_FIELDS = (
    "pk",
    "chain_key",
    "seq",
    "case_kind",
    "case_id",
    "event",
    "from_state",
    "to_state",
    "actor_id",
    "actor_label",
    "at",
    "reason",
    "task",
    "data",
    "prev_hash",
    "hash",
)

# A verification row: (entry id, chain key, seq, prev_hash, hash, content matches its hash)
Checked = tuple[int, str, int, str, str, bool]


def _row_hash(row: tuple[Any, ...], dumps: Any = json.dumps, sha256: Any = hashlib.sha256) -> str:
    """:func:`entry_hash` of a verification row, without keyword plumbing (the hot loop)."""
    (
        _pk,
        key,
        seq,
        kind,
        case_id,
        event,
        frm,
        to,
        actor_id,
        actor,
        at,
        reason,
        task,
        data,
        prev,
    ) = row[:15]
    payload = {
        "chain_key": key,
        "seq": seq,
        "case_kind": kind,
        "case_id": int(case_id),
        "event": event,
        "from": frm,
        "to": to,
        "actor_id": actor_id,
        "actor": actor,
        "at": _iso(at),
        "reason": reason,
        "task": task,
        "data": data,
        "prev": prev,
    }
    canonical = dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(sha256(canonical.encode("utf-8")).hexdigest())


def _key_range(qs: Any, field: str, key_range: tuple[str | None, str | None]) -> Any:
    low, high = key_range
    if low is not None:
        qs = qs.filter(**{f"{field}__gte": low})
    if high is not None:
        qs = qs.filter(**{f"{field}__lt": high})
    return qs


def _checked_rows(
    chain_key: str | None, key_range: tuple[str | None, str | None]
) -> Iterator[Checked]:
    """Every entry in chain order with whether its content matches its hash: one ordered scan,
    streamed in chunks; :func:`entry_hash` per entry."""
    qs = TransitionLog.objects.order_by("chain_key", "seq")
    if chain_key:
        qs = qs.filter(chain_key=chain_key)
    qs = _key_range(qs, "chain_key", key_range)
    for row in qs.values_list(*_VERIFY_FIELDS).iterator(chunk_size=5000):
        yield row[0], row[1], row[2], row[14], row[15], _row_hash(row) == row[15]


# PostgreSQL: the same scan streamed by COPY, the time already in the canonical form
# (text columns convert for free; a timestamp per row costs as much as the hash)
_PG_SCAN = """
SELECT id, chain_key, seq, prev_hash, hash, actor_label, actor_id, case_id, case_kind, event,
       from_state, reason, task, to_state,
       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), data::text
FROM audit_transitionlog WHERE {where} ORDER BY chain_key, seq
"""
_PG_SCAN_TYPES = ["int8", "text", "int4", "text", "text", "text", "int8", "int8"] + ["text"] * 8


def _checked_rows_postgresql(
    chain_key: str | None, key_range: tuple[str | None, str | None]
) -> Iterator[Checked]:
    """:func:`_checked_rows` at about five times the speed: the canonical JSON is written by
    orjson (sorted keys, compact, UTF-8 — the same text as :func:`entry_hash` writes for the
    values an entry holds). Equal texts mean equal content, so a match is a match; an entry that
    does not match is hashed again the defining way (:func:`entry_hash`, after the scan:
    :func:`_content_matches`) before it is reported, so a difference between the two writers
    could only cost time, never a false report."""
    where, params = ["true"], []
    if chain_key:
        where.append("chain_key = %s")
        params.append(chain_key)
    if key_range[0] is not None:
        where.append("chain_key >= %s")
        params.append(key_range[0])
    if key_range[1] is not None:
        where.append("chain_key < %s")
        params.append(key_range[1])
    loads, dumps, sort_keys, sha256 = (
        orjson.loads,
        orjson.dumps,
        orjson.OPT_SORT_KEYS,
        hashlib.sha256,
    )
    connection.ensure_connection()
    # COPY streams the rows without a cursor's round trips and psycopg parses them in C (binary:
    # no text escapes to undo, no numbers to read from digits — 10 % of the scan); the rows
    # come in key order from the (chain_key, seq) index, from the first row on, instead of a sort
    # of the whole log spilled to disk (a log of 100M entries would need its size in temp space)
    scan = f"COPY ({_PG_SCAN.format(where=' AND '.join(where))}) TO STDOUT (FORMAT BINARY)"
    with transaction.atomic(), connection.connection.cursor() as cur:
        cur.execute("SET LOCAL enable_sort = off")
        with cur.copy(scan, params) as copy:
            copy.set_types(_PG_SCAN_TYPES)
            for (
                pk,
                key,
                seq,
                prev,
                stored,
                actor,
                actor_id,
                case_id,
                kind,
                event,
                frm,
                reason,
                task,
                to,
                at,
                data,
            ) in copy.rows():
                try:
                    canonical = dumps(
                        {
                            "actor": actor,
                            "actor_id": actor_id,
                            "at": at,
                            "case_id": case_id,
                            "case_kind": kind,
                            "chain_key": key,
                            "data": loads(data),
                            "event": event,
                            "from": frm,
                            "prev": prev,
                            "reason": reason,
                            "seq": seq,
                            "task": task,
                            "to": to,
                        },
                        option=sort_keys,
                    )
                    ok = sha256(canonical).hexdigest() == stored
                except (TypeError, ValueError):  # a value orjson does not write (an int > 64 bits)
                    ok = False
                yield pk, key, seq, prev, stored, ok


def _head_problem(key: str, head: tuple[int, str] | None, last: tuple[int, str]) -> Problem | None:
    if head is None:
        return None  # reported at the chain's first entry
    if head != last:
        return Problem(
            key,
            last[0],
            None,
            f"chain ends at #{last[0]} but its head records #{head[0]}: "
            "the last entries were removed or altered",
        )
    return None


def verify_chains(
    *, chain_key: str | None = None, key_range: tuple[str | None, str | None] = (None, None)
) -> list[Problem]:
    """Check every chain (or one, or those whose key is in ``[low, high)``); return the
    problems, first chain and first entry first.

    One ordered scan over the entries (streamed in chunks); only the heads (key, length, hash)
    are held in memory, and each is dropped once its chain has been checked.
    """
    problems: list[Problem] = []
    suspects: list[Problem] = []  # entries whose hash did not match in the scan
    head_qs = AuditChain.objects.all()
    if chain_key:
        head_qs = head_qs.filter(key=chain_key)
    head_qs = _key_range(head_qs, "key", key_range)
    heads: dict[str, tuple[int, str]] = {
        key: (length, head_hash)
        for key, length, head_hash in head_qs.values_list("key", "length", "head_hash").iterator(
            chunk_size=5000
        )
    }
    scan = _checked_rows_postgresql if connection.vendor == "postgresql" else _checked_rows
    current: str | None = None
    expected_seq = 1
    prev = GENESIS
    last: tuple[int, str] = (0, GENESIS)
    for pk, key, seq, prev_hash, entry_hash_value, content_ok in scan(chain_key, key_range):
        if key != current:
            if current is not None:
                problem = _head_problem(current, heads.pop(current, None), last)
                if problem:
                    problems.append(problem)
            current = key
            expected_seq, prev = 1, GENESIS
            if current not in heads:
                problems.append(Problem(current, seq, pk, "chain has no head record"))
        if seq != expected_seq:
            problems.append(
                Problem(
                    key,
                    seq,
                    pk,
                    f"entry #{expected_seq} is missing (found #{seq} next): an entry was removed",
                )
            )
        elif prev_hash != prev:
            problems.append(Problem(key, seq, pk, "link to the previous entry is broken"))
        if not content_ok:
            suspects.append(Problem(key, seq, pk, "content does not match its hash (altered)"))
        expected_seq = seq + 1
        prev = entry_hash_value
        last = (seq, entry_hash_value)
    if current is not None:
        problem = _head_problem(current, heads.pop(current, None), last)
        if problem:
            problems.append(problem)
    for key, (length, _hash) in heads.items():
        if length:
            problems.append(
                Problem(key, None, None, f"all {length} entries of the chain were removed")
            )
    # read again and hashed the defining way once the scan has let go of the connection
    problems.extend(p for p in suspects if not _content_matches(p))
    problems.sort(key=lambda p: (p.chain_key, p.seq if p.seq is not None else 1 << 30))
    return problems


def _content_matches(suspect: Problem) -> bool:
    if suspect.entry_id is None:
        return False
    entry = TransitionLog.objects.get(pk=suspect.entry_id)
    return _hash_of(entry) == entry.hash


def chain_key_ranges(parts: int, *, min_chains: int = 1000) -> list[tuple[str | None, str | None]]:
    """At most ``parts`` ranges of chain keys that together cover every key (the first and last
    open), each with about as many entries — chains differ in length, a process's work is its
    entries — and at least ``min_chains`` chains in all per range (a small log is not worth a
    process each): split points read from the entries' (chain key, seq) index."""
    chains = AuditChain.objects.count()
    parts = max(1, min(parts, chains // max(min_chains, 1)))
    if parts == 1:
        return [(None, None)]
    entries = TransitionLog.objects.count()
    in_order = TransitionLog.objects.order_by("chain_key", "seq").values_list(
        "chain_key", flat=True
    )
    bounds: list[str | None] = [None]
    for i in range(1, parts):
        at = entries * i // parts
        key = in_order[at : at + 1].first()  # its chain starts the next range, whole
        if key is not None and (bounds[-1] is None or key > bounds[-1]):
            bounds.append(key)
    bounds.append(None)
    return list(zip(bounds[:-1], bounds[1:], strict=False))


def _verify_part(key_range: tuple[str | None, str | None]) -> list[Problem]:
    from django.db import connections

    try:
        return verify_chains(key_range=key_range)
    finally:
        connections.close_all()


def verify_all_chains(*, jobs: int = 1, min_chains: int = 1000) -> list[Problem]:
    """:func:`verify_chains` over every chain with up to ``jobs`` processes, each over its own
    range of chain keys (its own database connection and server process), the problems merged in
    order. Processes are forked: for the management command, not for a web request."""
    if jobs <= 1:
        return verify_chains()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    ranges = chain_key_ranges(jobs, min_chains=min_chains)
    if len(ranges) == 1:
        return verify_chains()
    connections.close_all()  # each process opens its own connection
    with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("fork")) as pool:
        found = [p for part in pool.map(_verify_part, ranges) for p in part]
    found.sort(key=lambda p: (p.chain_key, p.seq if p.seq is not None else 1 << 30))
    return found


INTERNAL_EVENTS = ("assignment",)


# every case page and answer shows its timeline: compiled once
_TIMELINE = CompiledQuery(
    lambda key: TransitionLog.objects.filter(chain_key=key).order_by("seq"), str
)
_TIMELINE_PUBLIC = CompiledQuery(
    lambda key: (
        TransitionLog.objects.filter(chain_key=key)
        .exclude(event__in=INTERNAL_EVENTS)
        .order_by("seq")
    ),
    str,
)


def timeline_for(
    case_kind: str, case_id: int, *, include_internal: bool = True
) -> list[dict[str, Any]]:
    """Every entry of a case, oldest first, in the API's shape. ``message`` is the system's text
    rendered now, in the reader's language, from the code stored in the entry; ``reason`` is what
    a person wrote. ``include_internal=False`` leaves out queue handling (claims, assignments),
    which applicants are not shown."""
    from workflow_app.cases.messages import render_message

    query = _TIMELINE if include_internal else _TIMELINE_PUBLIC
    entries = []
    for e in query(f"{case_kind}:{case_id}"):
        data = e.data or {}
        entries.append(
            {
                "seq": e.seq,
                "event": e.event,
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor_label,
                "at": timezone.localtime(e.at).isoformat(),
                "message": render_message(data.get("msg"), data.get("params")),
                "reason": e.reason,
                "task": e.task,
                "data": data,
            }
        )
    return entries
