"""Backup and restore as an operator runs them (ops/backup.sh, ops/restore.sh): dump a database
holding a decided case with evidence, restore into a fresh database, and find the audit chains
intact (verify_audit), the case's audit and history rows and its timeline identical and the
evidence byte-identical; a non-empty target and a damaged or incomplete backup are refused.
PostgreSQL only: skipped elsewhere, failed with REQUIRE_SERVICES=1."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.conftest import skip_or_fail
from tests.factories import CreditRecordFactory
from tests.processes.helpers import complete, file_repair, open_task

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def timeline_json(pk: int) -> str:
    """The repair's timeline as the API shows it to the applicant, as JSON. Called here on the
    test database and, through `manage.py shell`, on the restored one."""
    from processes.registry import kind
    from workflow_app.accounts.models import User

    k = kind("repair")
    case = k.model.objects.get(pk=pk)
    viewer = User.objects.get(username="applicant")
    return json.dumps(k.as_dict(case, viewer=viewer)["timeline"], ensure_ascii=False, default=str)


# The case's trail, table by table: (table, WHERE, ORDER BY); %(pk)s is the case, %(chain)s its
# audit chain. Rows are compared column by column, in this order, between the two databases.
CASE_ROWS = [
    ("audit_transitionlog", "chain_key = %(chain)s", "seq"),
    ("audit_auditchain", "key = %(chain)s", "id"),
    ("repair_repair", "id = %(pk)s", "id"),
    ("repair_historicalrepair", "id = %(pk)s", "history_id"),
    ("repair_evidence", "repair_id = %(pk)s", "id"),
    ("repair_historicalevidence", "repair_id = %(pk)s", "history_id"),
    ("processes_caseprocess", "case_kind = 'repair' AND case_id = %(pk)s", "id"),
    ("processes_casetask", "case_kind = 'repair' AND case_id = %(pk)s", "id"),
]


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("backup and restore are exercised on PostgreSQL (DATABASE_URL)")


def _url(name: str) -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "workflow_app.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _timeline(database_url: str, pk: int) -> list:
    code = f"from tests.ops.test_backup_restore import timeline_json; print(timeline_json({pk}))"
    r = _run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "shell", "--no-imports", "-c", code],
        DATABASE_URL=database_url,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _case_rows(database_url: str, pk: int) -> dict[str, list[tuple]]:
    """Every row of the case's audit trail and history, ordered, with column names."""
    params = {"pk": pk, "chain": f"repair:{pk}"}
    rows = {}
    with psycopg.connect(database_url) as conn:
        for table, where, order in CASE_ROWS:
            cur = conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params)
            names = tuple(c.name for c in cur.description)
            rows[table] = [names, *cur.fetchall()]
        # and the whole audit log, not only this case's chain
        rows["audit log (all)"] = conn.execute(
            "SELECT chain_key, seq, hash FROM audit_transitionlog ORDER BY chain_key, seq"
        ).fetchall()
        rows["audit heads (all)"] = conn.execute(
            "SELECT key, length, head_hash FROM audit_auditchain ORDER BY key"
        ).fetchall()
    return rows


def _sha(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _database_exists(name: str) -> bool:
    with psycopg.connect(_url("postgres")) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def _drop_database(name: str) -> None:
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database_with_audit_timeline_and_files(
    tmp_path, settings, applicant, company, samr, centre_user, dept_samr
):
    _require_postgres()
    record = CreditRecordFactory(
        subject=company, department=samr, decision_date=datetime.date(2025, 6, 3)
    )
    rid = file_repair(applicant, record)["id"]
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    complete(dept_samr, open_task(rid, "repair_decision"), decision="approve", reason="已整改")
    media = Path(settings.MEDIA_ROOT)
    files = _sha(media)
    assert len(files) == 1, files  # the proof PDF, stored after commit

    source = _url(connection.settings_dict["NAME"])
    source_rows = _case_rows(source, rid)
    assert len(source_rows["audit_transitionlog"]) - 1 >= 3, "filed, routed, approved"
    assert len(source_rows["repair_historicalrepair"]) - 1 >= 3
    assert len(source_rows["repair_evidence"]) - 1 == 1

    target_name = f"credit_restore_{uuid.uuid4().hex[:8]}"
    target = _url(target_name)
    backup = tmp_path / "backup"
    restored_media = tmp_path / "restored-media"
    try:
        r = _run(["bash", "ops/backup.sh", str(backup)], DATABASE_URL=source, MEDIA_ROOT=str(media))
        assert r.returncode == 0, r.stdout + r.stderr
        assert {p.name for p in backup.iterdir()} == {"db.dump", "media.tar.gz", "SHA256SUMS"}

        assert not _database_exists(target_name)
        r = _run(["bash", "ops/restore.sh", str(backup), target, str(restored_media)])
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"creating database {target_name}" in r.stdout
        assert "OK:" in r.stdout and "entries verified" in r.stdout  # verify_audit passed

        # the same rows, column by column, in both databases
        assert _case_rows(target, rid) == source_rows
        # the evidence file is byte-identical, where the restored row says it is
        assert _sha(restored_media) == files
        with psycopg.connect(target) as conn:
            stored, digest = conn.execute(
                "SELECT file, sha256 FROM repair_evidence WHERE repair_id = %s", [rid]
            ).fetchone()
        assert files[stored] == digest
        # and the case's timeline as the API shows it
        timeline = _timeline(target, rid)
        assert timeline == json.loads(timeline_json(rid))
        assert [e["to"] for e in timeline if e["event"] == "transition"][-1] == "approved"

        # a second restore into the now non-empty database is refused, changing nothing
        again = _run(["bash", "ops/restore.sh", str(backup), target, str(restored_media)])
        assert again.returncode == 3, again.stdout + again.stderr
        assert "not empty" in again.stderr
        assert _case_rows(target, rid) == source_rows
    finally:
        _drop_database(target_name)
    assert not _database_exists(target_name)


@pytest.mark.django_db
def test_restore_refuses_a_non_empty_target_and_a_damaged_or_incomplete_backup(tmp_path):
    _require_postgres()
    source_name = connection.settings_dict["NAME"]
    backup = tmp_path / "backup"
    r = _run(
        ["bash", "ops/backup.sh", str(backup)],
        DATABASE_URL=_url(source_name),
        MEDIA_ROOT=str(tmp_path / "no-media"),
    )
    assert r.returncode == 0, r.stdout + r.stderr

    # the live database (migrated, so it holds tables) is never restored over
    r = _run(["bash", "ops/restore.sh", str(backup), _url(source_name), str(tmp_path / "m")])
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"database {source_name} is not empty" in r.stderr
    assert "restoring the database" not in r.stdout

    # a damaged backup is refused before any database is created or touched
    fresh = f"credit_restore_{uuid.uuid4().hex[:8]}"
    try:
        with (backup / "db.dump").open("ab") as f:
            f.write(b"tampered")
        r = _run(["bash", "ops/restore.sh", str(backup), _url(fresh), str(tmp_path / "m")])
        assert r.returncode == 2 and "damaged" in r.stderr, r.stdout + r.stderr
        # so is a backup that never finished (no SHA256SUMS)
        (backup / "SHA256SUMS").unlink()
        r = _run(["bash", "ops/restore.sh", str(backup), _url(fresh), str(tmp_path / "m")])
        assert r.returncode == 2 and "not a complete backup" in r.stderr, r.stdout + r.stderr
        assert not _database_exists(fresh)
    finally:
        _drop_database(fresh)
