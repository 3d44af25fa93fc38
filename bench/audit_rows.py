"""Hash-chained audit entries and their chain heads for generated data, written with ``COPY``
(the real ``entry_hash``, so ``verify_audit`` finds nothing wrong with them). Used by
``bench/run.py`` (each generated case's filing entry: a case filed through the services has
one, and its next transition appends to that chain) and ``bench/scale.py`` (1M entries for
``verify_audit``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection


def copy_chains(chains: Iterable[tuple[str, int, list[dict[str, Any]]]]) -> int:
    """Write each chain ``(case_kind, case_id, entries)``; an entry holds the fields of
    ``entry_hash`` but the chain key, sequence number and hashes, which are filled in here.
    Returns the number of entries written."""
    from workflow_app.audit.models import TransitionLog
    from workflow_app.audit.services import GENESIS, entry_hash

    # the entry's columns but its id and the three written after them, in the model's order
    columns = [
        f.column
        for f in TransitionLog._meta.concrete_fields
        if f.name not in ("id", "data", "prev_hash", "hash")
    ]
    connection.ensure_connection()
    raw = connection.connection  # the psycopg 3 connection (autocommit, as Django keeps it)
    heads: list[tuple[str, int, str]] = []
    written = 0
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY audit_transitionlog ({', '.join(columns)}, data, prev_hash, hash) FROM STDIN"
        ) as copy,
    ):
        for case_kind, case_id, entries in chains:
            key = f"{case_kind}:{case_id}"
            prev = GENESIS
            for seq, entry in enumerate(entries, start=1):
                fields = {
                    "chain_key": key,
                    "seq": seq,
                    "case_kind": case_kind,
                    "case_id": case_id,
                    **entry,
                    "prev_hash": prev,
                }
                digest = entry_hash(**fields)
                copy.write_row(
                    (
                        *(fields[c] for c in columns),
                        json.dumps(fields["data"], ensure_ascii=False),
                        prev,
                        digest,
                    )
                )
                prev = digest
                written += 1
            heads.append((key, len(entries), prev))
    with (
        raw.cursor() as cur,
        cur.copy("COPY audit_auditchain (key, length, head_hash) FROM STDIN") as copy,
    ):
        for head in heads:
            copy.write_row(head)
    return written
