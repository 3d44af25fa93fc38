"""What users feel: the hot paths over real HTTP, through gunicorn, on PostgreSQL, with 1, 4 and
16 concurrent clients — and, in the same run, the raw database cost of the same transition shape
(pgbench), printed beside it with the ratio.

Needs the database that ``bench/run.py`` generates (``make bench`` runs both; ``make bench-http``
reuses the data). Every loop is bounded: each client sends a fixed number of requests and stops.

Measured:
* task completions per second, p50 / p95: objection intake ``accept``, repair ``approve`` (the
  department's decision), commitment verification ``fulfilled``;
* filings per second, p50 / p95: objections and repairs (multipart, one small PDF), commitment
  signings (JSON);
* the public report of a generated subject, API and page, p50 / p95;
* the centre caseworker's queue, API and page (signed-in session), p50 / p95;
* the centre's objection list page: its first page, and searches for two characters of a name
  that no subject has and that every generated subject has;
* record import (``POST /api/v1/records/``, 5,000-item batches) from 1 and 4 clients, without and
  with one synchronisation target enabled;
* pgbench: one transaction of the completion's shape (lock the task row, update it, insert a
  history row, an audit row and an outbox row) per second, at the same client counts;
* resident memory of a gunicorn worker after the run;
* for every measured request kind, the CPU one request cost the gunicorn workers, PostgreSQL and
  the bench's own client threads (from /proc), and the rate the machine's cores would allow at
  that cost — where the time goes, next to how fast it went.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

OUT = ROOT / "bench" / "out"
SYNC_TARGET = "基准同步目标"  # the bench's synchronisation target (nothing listens there)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn as documented for production: sync workers, 2 × cores, no request logging."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "workflow_app.settings.bench",
            "MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-media-"),
        }
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "workflow_app.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        CpuMeter.web_parent = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/api/schema/")
                if c.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def rss_mb(self) -> float:
        """Largest resident set of the worker processes (MB)."""
        assert self.proc is not None
        out = subprocess.run(
            ["ps", "-o", "rss=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout.split()
        return round(max(int(x) for x in out) / 1024, 1) if out else 0.0

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def filing_jobs(
    path: str, records: list[int], n: int, fields: dict[str, str], headers: dict[str, str]
) -> list[tuple]:
    """``n`` multipart filings to ``path``, each on the next of ``records`` with one proof PDF."""
    jobs = []
    for _ in range(n):
        data, ctype = multipart(
            {"record": str(records.pop()), **fields}, {"evidence": ("proof.pdf", PDF)}
        )
        jobs.append(("POST", path, data, {**headers, "Content-Type": ctype}))
    return jobs


def session_cookie(username: str) -> str:
    """A signed-in browser session for ``username`` (what the login page would set)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from workflow_app.accounts.models import User

    user = User.objects.get(username=username)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"


def _cpu_seconds(pids: list[str]) -> dict[str, float]:
    """User + system CPU seconds of each process so far (a process gone is left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _pids(*pgrep_args: str) -> list[str]:
    return subprocess.run(["pgrep", *pgrep_args], capture_output=True, text=True).stdout.split()


class CpuMeter:
    """Where a run's CPU went, per request: the gunicorn workers, PostgreSQL (every server
    process: backends, WAL writer, checkpointer) and the bench's own client threads — from
    /proc, so the split a profile would show is printed by every run. A backend that starts
    during the run counts from zero; one that ends during it is lost (rare: connections live a
    minute), as is a gunicorn worker restarted during it; every PostgreSQL process on the host
    is counted (the bench's machine runs nothing else)."""

    web_parent: int | None = None  # the gunicorn master, set by Server

    def __enter__(self) -> CpuMeter:
        self.web = _pids("-P", str(self.web_parent)) if self.web_parent else []
        self.before = _cpu_seconds(self.web), _cpu_seconds(_pids("-x", "postgres"))
        self.client = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = time.process_time() - self.client
        web, db = _cpu_seconds(self.web), _cpu_seconds(_pids("-x", "postgres"))
        self.web_seconds = sum(v - self.before[0].get(k, 0.0) for k, v in web.items())
        self.db_seconds = sum(v - self.before[1].get(k, 0.0) for k, v in db.items())

    def per_request(self, n: int) -> dict[str, float]:
        return {
            "cpu_web_ms": round(1000 * self.web_seconds / n, 2),
            "cpu_db_ms": round(1000 * self.db_seconds / n, 2),
            "cpu_client_ms": round(1000 * self.client / n, 2),
        }


def run_clients(port: int, clients: int, jobs: list, expect: set[int]) -> dict[str, float]:
    """Each job is (method, path, body, headers). Jobs are split among ``clients`` threads, each
    with its own keep-alive connection; returns throughput, latency percentiles and the CPU
    each request cost the web workers, PostgreSQL and the clients (``CpuMeter``)."""
    chunks = [jobs[i::clients] for i in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(chunk: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        for method, path, body, headers in chunk:
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status not in expect:
                with lock:
                    errors.append(f"{method} {path} {response.status} {payload[:200]!r}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks if c]
    with CpuMeter() as cpu:
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} unexpected answers, e.g. {errors[:3]}")
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
        **cpu.per_request(len(latencies)),
    }


def set_sync_target(*, enabled: bool) -> None:
    """One synchronisation target (its outbox rows are written and queued; no worker runs, so
    nothing is sent), enabled or not."""
    from sync.models import SyncTarget

    SyncTarget.objects.update_or_create(
        name=SYNC_TARGET,
        defaults={"url": "http://127.0.0.1:9/bench-events", "enabled": enabled},
    )
    connection.close()


def deliver_sync_events() -> int:
    """What a worker does once the provincial platform answers: the benchmark target's events
    marked delivered (no worker runs during the bench, and a backlog of every imported record
    would be what the oversight bench then measures)."""
    from sync.models import SyncEvent, SyncTarget

    with connection.cursor() as c:
        # the run's 80,000 new rows counted first (autovacuum is off): once this UPDATE, through
        # a join to the targets, ran for over fifteen minutes on statistics the generator had
        # left for an empty table (its plan was not captured); the same rows by target id,
        # counted, take seconds
        c.execute("ANALYZE sync_syncevent")
    targets = list(SyncTarget.objects.filter(name=SYNC_TARGET).values_list("id", flat=True))
    delivered = (
        SyncEvent.objects.filter(target_id__in=targets)
        .exclude(status=SyncEvent.Status.DELIVERED)
        .update(status=SyncEvent.Status.DELIVERED, delivered_at=timezone.now(), attempts=1)
    )
    with connection.cursor() as c:
        # what autovacuum does soon after (CI's PostgreSQL runs with it off): the old versions
        # of the rows just marked are removed from the partial indexes of undelivered rows
        c.execute("VACUUM ANALYZE sync_syncevent")
    connection.close()
    return delivered


def token(username: str) -> str:
    from rest_framework.authtoken.models import Token

    from workflow_app.accounts.models import User

    return Token.objects.get_or_create(user=User.objects.get(username=username))[0].key


def filing_records(n: int) -> list[int]:
    """``n`` published SAMR penalty records of the demo applicant's company with no case yet
    (set-based), for objections."""
    from workflow_app.accounts.models import User

    applicant = User.objects.get(username="applicant")
    with connection.cursor() as c:
        c.execute("SELECT id FROM registry_department WHERE code = 'SAMR'")
        dept = c.fetchone()[0]
        tag = uuid.uuid4().hex[:8]
        c.execute(
            """
            INSERT INTO registry_creditrecord
              (subject_id, department_id, external_id, version, category, nature, severity, title,
               content, decision_date, publicity_start, publicity_end, status, under_objection,
               note, created_at, updated_at)
            SELECT %s, %s, 'FILE-' || %s || '-' || g, 1, 'penalty', 'dishonesty', 'general',
                   '基准处罚 ' || g, '内容', DATE '2026-06-01', DATE '2026-06-01',
                   DATE '2029-06-01', 'published', false, '', now(), now()
            FROM generate_series(1, %s) g RETURNING id
            """,
            [applicant.subject_id, dept, tag, n],
        )
        return [row[0] for row in c.fetchall()]


def repair_applicants(n: int) -> list[tuple[int, dict[str, str]]]:
    """``n`` companies, each with an applicant account (token) and one penalty record old enough
    to repair: one approved repair bars a subject's next one for 12 months, so every measured
    repair is another company's. Returns (record id, the applicant's headers)."""
    from rest_framework.authtoken.models import Token

    from workflow_app.accounts.demo import uscc
    from workflow_app.accounts.models import User
    from workflow_app.registry.models import Subject

    tag = uuid.uuid4().int % 10**7
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                kind="legal_person",
                name=f"基准修复企业{i}",
                identifier=code,
                identifier_display=code,
            )
            for i, code in enumerate(
                uscc(f"9144030{(tag * 1000 + i) % 10**10:010d}") for i in range(n)
            )
        ]
    )
    users = User.objects.bulk_create(
        [
            User(username=f"bench-repair-{tag}-{i}", role="applicant", subject=subject)
            for i, subject in enumerate(subjects)
        ]
    )
    tokens = Token.objects.bulk_create(
        [Token(user=user, key=Token.generate_key()) for user in users]
    )
    with connection.cursor() as c:
        c.execute("SELECT id FROM registry_department WHERE code = 'SAMR'")
        dept = c.fetchone()[0]
        c.execute(
            """
            INSERT INTO registry_creditrecord
              (subject_id, department_id, external_id, version, category, nature, severity, title,
               content, decision_date, publicity_start, publicity_end, status, under_objection,
               note, created_at, updated_at)
            SELECT s, %s, 'REPAIR-' || s, 1, 'penalty', 'dishonesty', 'general', '基准处罚',
                   '内容', DATE '2025-06-03', DATE '2025-06-03', DATE '2028-06-03', 'published',
                   false, '', now(), now()
            FROM unnest(%s::bigint[]) s RETURNING id, subject_id
            """,
            [dept, [subject.pk for subject in subjects]],
        )
        record_of = {subject_id: record_id for record_id, subject_id in c.fetchall()}
    return [
        (record_of[user.subject_id], {"Authorization": f"Token {token.key}"})
        for user, token in zip(users, tokens, strict=True)
    ]


def open_tasks(kind: str, step: str, since_id: int) -> list[int]:
    """Open tasks at ``step`` of the ``kind`` cases created after case id ``since_id``."""
    from processes.models import CaseTask

    return list(
        CaseTask.objects.filter(
            case_kind=kind, step=step, case_id__gt=since_id, status__in=["NEW", "ASSIGNED"]
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def last_case_id(model: str) -> int:
    from django.apps import apps

    return apps.get_model(model).objects.order_by("-id").values_list("id", flat=True).first() or 0


PGBENCH_SETUP = """
DROP TABLE IF EXISTS raw_task, raw_history, raw_audit, raw_outbox;
CREATE TABLE raw_task (id bigint PRIMARY KEY, status text, owner_id bigint, finished timestamptz,
                       payload text);
INSERT INTO raw_task SELECT g, 'NEW', NULL, NULL, repeat('x', 200) FROM generate_series(1, 100000) g;
CREATE TABLE raw_history (id bigserial PRIMARY KEY, task_id bigint, status text, at timestamptz,
                          payload text);
CREATE TABLE raw_audit (id bigserial PRIMARY KEY, chain text, seq int, event text, at timestamptz,
                        hash text, UNIQUE (chain, seq));
CREATE TABLE raw_outbox (id bigserial PRIMARY KEY, event_key text UNIQUE, recipient bigint,
                         context jsonb, at timestamptz);
"""
PGBENCH_SCRIPT = """
\\set id random(1, 100000)
BEGIN;
SELECT status FROM raw_task WHERE id = :id FOR UPDATE;
UPDATE raw_task SET status = 'DONE', owner_id = 1, finished = now() WHERE id = :id;
INSERT INTO raw_history (task_id, status, at, payload) VALUES (:id, 'DONE', now(), repeat('x', 200));
INSERT INTO raw_audit (chain, seq, event, at, hash)
  VALUES ('task:' || :id || ':' || :client_id || ':' || random(), 1, 'accept', now(), md5(random()::text));
INSERT INTO raw_outbox (event_key, recipient, context, at)
  VALUES (md5(random()::text), 1, '{"reference": "YY"}', now());
COMMIT;
"""


def pgbench(clients: int, seconds: int) -> float:
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT)
    out = subprocess.run(
        [
            "pgbench",
            *args,
            "-n",
            "-f",
            f.name,
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(seconds),
            db["NAME"],
        ],
        capture_output=True,
        text=True,
    )
    os.unlink(f.name)
    for line in out.stdout.splitlines():
        if line.startswith("tps"):
            return round(float(line.split("=")[1].split()[0]), 1)
    raise RuntimeError(out.stdout + out.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--completions", type=int, default=400, help="per client count")
    ap.add_argument("--filings", type=int, default=200, help="per client count")
    ap.add_argument("--reads", type=int, default=400, help="per client count")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--pgbench-seconds", type=int, default=8)
    ap.add_argument("--import-batches", type=int, default=4, help="5,000-item batches per run")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    from processes.models import CaseTask
    from workflow_app.registry.models import Subject

    centre = {"Authorization": f"Token {token('centre')}", "Content-Type": "application/json"}
    centre_page = {"Cookie": session_cookie("centre")}
    applicant = {"Authorization": f"Token {token('applicant')}"}
    json_type = {"Content-Type": "application/json"}
    need = args.completions * len(counts) + 2 * args.workers  # and two per worker to warm up
    open_intake = list(
        CaseTask.objects.filter(status="NEW", step="objection_intake", queue="centre")
        .order_by("?")
        .values_list("id", flat=True)[:need]
    )
    if len(open_intake) < need:
        raise SystemExit(f"{len(open_intake)} open intake tasks, {need} needed: regenerate")
    generated = Subject.objects.filter(name__startswith="基准企业").values_list(
        "identifier", flat=True
    )
    # the imports go to one end of the generated subjects, the reports read the other: each run
    # adds 32 records to every imported subject, and a report measured on those grew from run
    # to run (10 records, as generated, to over 200 after six runs)
    subjects = list(generated.order_by("id")[:5000])
    report_subjects = list(generated.order_by("-id")[:1000])
    records = filing_records(args.filings * len(counts))
    repairable = repair_applicants(args.filings * len(counts))
    dept = {"Authorization": f"Token {token('dept_samr')}", "Content-Type": "application/json"}
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM registry_creditrecord")
        n_records = c.fetchone()[0]
        c.execute("SELECT count(*) FROM processes_casetask")
        n_tasks = c.fetchone()[0]
        c.execute(PGBENCH_SETUP)
        # what autovacuum does between runs (CI's PostgreSQL runs with it off: without this, each
        # run planned its queries on the statistics of the data before the runs before it, and
        # read the queue's covering indexes of the task and deadline rows the runs before it
        # rewrote through the table)
        for table in ("processes_casetask", "workdays_deadline"):
            c.execute(f"VACUUM {table}")
        c.execute("ANALYZE")
    connection.close()  # gunicorn and pgbench get the machine

    results: dict[str, object] = {
        "credit_records": n_records,
        "task_rows": n_tasks,
        "gunicorn_workers": args.workers,
        "rows": [],
    }
    with Server(args.workers) as server:
        log(f"gunicorn on :{server.port} with {args.workers} workers")
        # each worker's first request loads code, translations and templates: not measured
        warm = [
            ("GET", f"/api/v1/subjects/{report_subjects[0]}/report/", None, {}),
            ("GET", f"/report/{report_subjects[0]}/", None, {}),
            ("GET", "/api/v1/tasks/", None, centre),
            ("GET", "/queue/", None, centre_page),
        ]
        body = json.dumps({"decision": "accept"})
        warm_completions = [
            ("POST", f"/api/v1/tasks/{open_intake.pop()}/complete/", body, centre)
            for _ in range(2 * args.workers)
        ]
        run_clients(server.port, args.workers, warm * 2 * args.workers + warm_completions, {200})
        for n in counts:
            done = [open_intake.pop() for _ in range(args.completions)]
            complete = run_clients(
                server.port,
                n,
                [("POST", f"/api/v1/tasks/{t}/complete/", body, centre) for t in done],
                {200},
            )
            objection = {
                "grounds": "error",
                "description": "金额有误",
                "commitment_accepted": "true",
            }
            jobs = filing_jobs("/api/v1/objections/", records, args.filings, objection, applicant)
            filing = run_clients(server.port, n, jobs, {201})
            report = run_clients(
                server.port,
                n,
                [
                    ("GET", f"/api/v1/subjects/{random.choice(report_subjects)}/report/", None, {})
                    for _ in range(args.reads)
                ],
                {200},
            )
            report_page = run_clients(
                server.port,
                n,
                [
                    ("GET", f"/report/{random.choice(report_subjects)}/", None, {})
                    for _ in range(args.reads)
                ],
                {200},
            )
            queue = run_clients(
                server.port,
                n,
                [("GET", "/api/v1/tasks/", None, centre) for _ in range(args.reads)],
                {200},
            )
            queue_page = run_clients(
                server.port,
                n,
                [("GET", "/queue/", None, centre_page) for _ in range(args.reads)],
                {200},
            )
            # the staff's case list: its first page; a search for two characters of a name
            # that no subject has (a trigram index has nothing to look up for it) and for two
            # that every generated subject has (基准企业…)
            case_lists = {
                name: run_clients(
                    server.port,
                    n,
                    [("GET", path, None, centre_page) for _ in range(args.reads)],
                    {200},
                )
                for name, path in (
                    ("case_list_page", "/objections/"),
                    ("search_rare_pair", f"/objections/?q={quote('华为')}"),
                    ("search_common_pair", f"/objections/?q={quote('基准')}"),
                )
            }
            # credit repair: filings (multipart, one PDF), the centre routes each (not
            # measured), then the department's approval — the workflow's busiest step
            before = last_case_id("repair.Repair")
            repair = {
                "correction_statement": "罚款已缴清，整改报告已提交。",
                "commitment_text": "本单位承诺不再发生同类失信行为。",
                "commitment_accepted": "true",
            }
            jobs = []
            for _ in range(args.filings):
                record, headers = repairable.pop()
                data, ctype = multipart(
                    {"record": str(record), **repair}, {"evidence": ("proof.pdf", PDF)}
                )
                jobs.append(("POST", "/api/v1/repairs/", data, {**headers, "Content-Type": ctype}))
            repair_filing = run_clients(server.port, n, jobs, {201})
            route = json.dumps({"decision": "route"})
            intake = open_tasks("repair", "repair_intake", before)
            run_clients(
                server.port,
                n,
                [("POST", f"/api/v1/tasks/{t}/complete/", route, centre) for t in intake],
                {200},
            )
            approve = json.dumps({"decision": "approve", "reason": "已整改"})
            decisions = open_tasks("repair", "repair_decision", before)
            repair_approve = run_clients(
                server.port,
                n,
                [("POST", f"/api/v1/tasks/{t}/complete/", approve, dept) for t in decisions],
                {200},
            )
            # credit commitments: signings (JSON), then the department's verification
            before = last_case_id("commitments.Commitment")
            sign = json.dumps(
                {
                    "kind": "notification",
                    "department": "SAMR",
                    "matter_reference": "SZ-SAMR-BENCH",
                    "matter_title": "食品经营许可（告知承诺）",
                    "text": "本企业已具备食品经营许可条件。",
                    "publicity": "public",
                    "commitment_accepted": True,
                }
            )
            signing = run_clients(
                server.port,
                n,
                [
                    ("POST", "/api/v1/commitments/", sign, {**applicant, **json_type})
                    for _ in range(args.filings)
                ],
                {201},
            )
            fulfilled = json.dumps({"decision": "fulfilled"})
            verifications = open_tasks("commitment", "commitment_verification", before)
            verification = run_clients(
                server.port,
                n,
                [("POST", f"/api/v1/tasks/{t}/complete/", fulfilled, dept) for t in verifications],
                {200},
            )
            raw = pgbench(n, args.pgbench_seconds)
            row = {
                "clients": n,
                "completions": complete,
                "filings": filing,
                "repair_filings": repair_filing,
                "repair_approve": repair_approve,
                "commitment_signing": signing,
                "commitment_verification": verification,
                "report_api": report,
                "report_page": report_page,
                "queue_api": queue,
                "queue_page": queue_page,
                **case_lists,
                "raw_transition_per_second": raw,
                "completion_vs_raw": round(raw / complete["per_second"], 1),
            }
            results["rows"].append(row)  # type: ignore[attr-defined]
            log(
                f"{n:>2} clients: completions {complete['per_second']}/s p95 {complete['p95_ms']} ms"
                f" | filings {filing['per_second']}/s p95 {filing['p95_ms']} ms"
                f" | report p95 {report['p95_ms']} ms (page {report_page['p95_ms']})"
                f" | queue p95 {queue['p95_ms']} ms (page {queue_page['p95_ms']})"
                f" | case list page p95 {case_lists['case_list_page']['p95_ms']} ms (two"
                f" characters, none / every subject: {case_lists['search_rare_pair']['p95_ms']} /"
                f" {case_lists['search_common_pair']['p95_ms']})"
                f" | raw {raw}/s (x{row['completion_vs_raw']})"
            )
            log(
                f"{n:>2} clients: repair filings {repair_filing['per_second']}/s p95 "
                f"{repair_filing['p95_ms']} ms | repair approve {repair_approve['per_second']}/s "
                f"p95 {repair_approve['p95_ms']} ms | commitment signing {signing['per_second']}/s "
                f"p95 {signing['p95_ms']} ms | verification {verification['per_second']}/s p95 "
                f"{verification['p95_ms']} ms"
            )
        results["record_import"] = []
        # without, then with one synchronisation target enabled (a platform that forwards
        # every change to the provincial platform writes one outbox row per record)
        for n, target in ((1, False), (4, False), (1, True), (4, True)):
            set_sync_target(enabled=target)
            jobs = []
            for _ in range(args.import_batches):
                batch = [
                    {
                        "external_id": f"IMP-{uuid.uuid4().hex}",
                        "subject": {
                            "kind": "legal_person",
                            "identifier": random.choice(subjects),
                            "name": "基准企业",
                        },
                        "category": "penalty",
                        "nature": "dishonesty",
                        "severity": "general",
                        "title": "行政处罚决定书（基准导入）",
                        "content": "未按规定公示年度报告。",
                        "decision_date": "2026-05-01",
                    }
                    for _ in range(5000)
                ]
                jobs.append(("POST", "/api/v1/records/", json.dumps(batch), dept))
            r = run_clients(server.port, n, jobs, {200, 201})
            row = {**r, "sync_target": target, "records_per_second": round(r["per_second"] * 5000)}
            results["record_import"].append(row)  # type: ignore[attr-defined]
            log(
                f"import, {n} client(s){' with a sync target' if target else ''}: "
                f"{row['records_per_second']:,} records/s (p95 {r['p95_ms']} ms per 5,000-item batch;"
                f" CPU per batch: web {r['cpu_web_ms']:.0f} ms, PostgreSQL {r['cpu_db_ms']:.0f} ms)"
            )
        set_sync_target(enabled=False)
        deliver_sync_events()
        results["worker_rss_mb"] = server.rss_mb()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "http.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(
        "\n| clients | completions/s | p50 / p95 ms | filings/s | p50 / p95 ms | report API / page "
        "p95 ms | queue API / page p95 ms | raw transition/s | raw ÷ completion |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["rows"]:  # type: ignore[attr-defined]
        c, f = r["completions"], r["filings"]
        print(
            f"| {r['clients']} | {c['per_second']} | {c['p50_ms']} / {c['p95_ms']} | "
            f"{f['per_second']} | {f['p50_ms']} / {f['p95_ms']} | {r['report_api']['p95_ms']} / "
            f"{r['report_page']['p95_ms']} | {r['queue_api']['p95_ms']} / "
            f"{r['queue_page']['p95_ms']} | {r['raw_transition_per_second']} | "
            f"{r['completion_vs_raw']} |"
        )
    print(
        "\n| clients | repair filings/s | p50 / p95 ms | repair approve/s | p50 / p95 ms | "
        "commitment signings/s | p50 / p95 ms | verification/s | p50 / p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["rows"]:  # type: ignore[attr-defined]
        cells = [
            r[k]
            for k in (
                "repair_filings",
                "repair_approve",
                "commitment_signing",
                "commitment_verification",
            )
        ]
        print(
            f"| {r['clients']} | "
            + " | ".join(f"{c['per_second']} | {c['p50_ms']} / {c['p95_ms']}" for c in cells)
            + " |"
        )
    # where each request's time went: at 16 clients the machine's cores are the limit, and
    # cores ÷ (CPU per request) is the most it could do (the clients' share included)
    cores = os.cpu_count() or 1
    print(
        f"\nCPU per request at {results['rows'][-1]['clients']} clients, ms "  # type: ignore[index]
        f"(web worker + PostgreSQL + bench clients = total → at most {cores} cores ÷ total /s):"
    )
    print("| what | web | PostgreSQL | clients | total | ceiling/s | measured/s |")
    print("|---|---|---|---|---|---|---|")
    last = results["rows"][-1]  # type: ignore[index]
    for key in (
        "completions",
        "repair_approve",
        "commitment_verification",
        "filings",
        "repair_filings",
        "commitment_signing",
    ):
        c = last[key]
        total = c["cpu_web_ms"] + c["cpu_db_ms"] + c["cpu_client_ms"]
        print(
            f"| {key} | {c['cpu_web_ms']} | {c['cpu_db_ms']} | {c['cpu_client_ms']} | "
            f"{total:.2f} | {1000 * cores / total if total else 0:.0f} | {c['per_second']} |"
        )
    for r in results["record_import"]:  # type: ignore[attr-defined]
        print(
            f"\nrecord import, {r['clients']} client(s)"
            f"{', one sync target' if r['sync_target'] else ''}: {r['records_per_second']:,} records/s"
        )
    print(
        f"\nweb worker RSS: {results['worker_rss_mb']} MB; {n_records:,} records, "
        f"{n_tasks:,} task rows"
    )


if __name__ == "__main__":
    main()
