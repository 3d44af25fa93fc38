"""Oversight at scale, over real HTTP (gunicorn, PostgreSQL): the supervisors' dashboard (page
and API) with 1M deadline rows and 200k cases, with 1/4/16 clients, the raw database time of the
same figures beside it; and a 200,000-row CSV export streamed to a client while the worker's
peak resident memory is read before and after (constant memory means the peak does not grow
with the rows).

Needs the database of ``bench/run.py``; adds the deadline rows it lacks (set-based SQL) and reuses
them on the next run. ``make bench-oversight`` runs it; ``make bench`` runs it after the rest.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.bench")

from django.db import connection  # noqa: E402

from bench.over_http import (  # noqa: E402  (sets Django up)
    Server,
    log,
    run_clients,
    session_cookie,
    token,
)

OUT = ROOT / "bench" / "out"
STEPS = ("objection_intake", "objection_platform_check", "objection_verification")


def ensure_deadlines(target: int) -> int:
    """Deadline rows for the generated objections until there are ``target``: three steps per
    case over the last 400 days, 2 % still open (some overdue), the rest met, 10 % of them late."""
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM workdays_deadline")
        have = c.fetchone()[0]
        if have >= target:
            return have
        c.execute(
            "SELECT min(id), count(*) FROM objections_objection WHERE reference LIKE 'BENCH%%'"
        )
        o_min, n_obj = c.fetchone()
        if not n_obj:
            raise SystemExit("no generated objections: run bench/run.py first")
        need = target - have
        log(f"generating {need:,} deadline rows over {n_obj:,} objections")
        steps = "ARRAY[" + ",".join(f"'{s}'" for s in STEPS) + "]"
        c.execute(
            f"""
            INSERT INTO workdays_deadline
              (case_kind, case_id, case_reference, kind, start_at, unit, amount, due_at,
               provisional, basis, status, closed_at, remind_at, reminded_at, escalated_at, queue,
               assignee_id, department_id, created_at)
            SELECT 'objection', o.id, o.reference, ({steps})[1 + g % 3], t.start_at,
                   'working_days', 2, t.start_at + interval '3 day', false, '{{}}'::jsonb,
                   CASE WHEN g % 50 = 0 THEN 'open' ELSE 'met' END,
                   CASE WHEN g % 50 = 0 THEN NULL
                        ELSE t.start_at + ((g % 4) + CASE WHEN g % 10 = 0 THEN 3 ELSE 0 END)
                             * interval '1 day' END,
                   t.start_at + interval '1 day', NULL, NULL,
                   CASE WHEN g % 3 = 2 THEN 'dept:' || d.code ELSE 'centre' END,
                   NULL, r.department_id, t.start_at
            FROM generate_series(1, {need}) g
            JOIN objections_objection o ON o.id = {o_min} + (g % {n_obj})
            JOIN registry_creditrecord r ON r.id = o.record_id
            JOIN registry_department d ON d.id = r.department_id
            CROSS JOIN LATERAL (SELECT now() - ((g % 400) * interval '1 day')
                                        - ((g % 24) * interval '1 hour') AS start_at) t
            """
        )
        # what autovacuum does after a bulk load: statistics, and the visibility map that lets
        # the dashboard's covering indexes answer without visiting the table
        c.execute("VACUUM ANALYZE workdays_deadline")
        c.execute("SELECT count(*) FROM workdays_deadline")
        return c.fetchone()[0]


def raw_database_ms(repeat: int = 5) -> dict[str, float]:
    """The dashboard computed in-process: total time and the time spent inside the database."""
    from oversight import selectors
    from workflow_app.accounts.models import User

    spent: list[float] = []

    def timer(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - t0) * 1000)

    user = User.objects.get(username="supervisor")
    scope = selectors.dashboard_scope(user, {})
    totals, db = [], []
    for _ in range(repeat):
        spent.clear()
        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            selectors.dashboard(scope)
        totals.append((time.perf_counter() - t0) * 1000)
        db.append(sum(spent))
    queries = len(spent)
    return {
        "in_process_ms": round(min(totals), 1),
        "database_ms": round(min(db), 1),
        "queries": queries,
    }


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def export_run(path: str, cookie: str) -> dict[str, float]:
    """Stream one export through a one-worker gunicorn; the worker's peak RSS before and after."""
    import subprocess

    with Server(1) as server:
        assert server.proc is not None
        worker = int(
            subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(server.proc.pid)],
                capture_output=True,
                text=True,
            ).stdout.split()[0]
        )
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        conn.request("GET", "/dashboard/", headers={"Cookie": cookie})  # warm the worker
        conn.getresponse().read()
        before = vm_hwm_kb(worker)
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        size, lines, first = 0, 0, 0.0
        while chunk := response.read(65536):
            if not first:
                first = time.perf_counter() - t0
            size += len(chunk)
            lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - t0
        after = vm_hwm_kb(worker)
        if response.status != 200:
            raise RuntimeError(f"export answered {response.status}")
    return {
        "status": response.status,
        "rows": lines - 1,
        "mb": round(size / 1e6, 1),
        "seconds": round(elapsed, 1),
        "first_byte_ms": round(first * 1000, 1),
        "rows_per_second": round((lines - 1) / elapsed),
        "peak_rss_before_mb": round(before / 1024, 1),
        "peak_rss_after_mb": round(after / 1024, 1),
    }


def settle() -> None:
    """What autovacuum would have done after the HTTP bench's bursts (CI's PostgreSQL runs with
    it off): statistics of every table, and the tables it churns vacuumed. Its imports write,
    then mark delivered, hundreds of thousands of synchronisation rows within minutes, and until
    their old versions are vacuumed the partial index of undelivered rows points at all of them
    (the dashboard's undelivered count took 437 ms instead of under 1 ms; with stale statistics
    the planner also chose a sequential scan); its completions and the sweeps bench rewrite
    deadline rows, and until the visibility map is set again the dashboard's covering indexes
    of open deadlines visit the table for every other row (133 → 92 ms in-process)."""
    t0 = time.perf_counter()
    with connection.cursor() as c:
        for table in ("sync_syncevent", "workdays_deadline", "processes_casetask"):
            c.execute(f"VACUUM ANALYZE {table}")
        c.execute("ANALYZE")
    log(f"vacuum/analyze as autovacuum would: {time.perf_counter() - t0:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deadlines", type=int, default=1_000_000)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--reads", type=int, default=60, help="requests per client count")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    n_deadlines = ensure_deadlines(args.deadlines)
    settle()
    from oversight.rollups import rollup_build

    t0 = time.perf_counter()
    added = rollup_build()  # what beat does every hour
    log(f"rollups: {added} day(s) added in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM objections_objection")
        n_cases = c.fetchone()[0]
        c.execute("SELECT count(*) FROM workdays_deadline WHERE status = 'open'")
        n_open = c.fetchone()[0]
    raw = raw_database_ms()
    log(f"dashboard in-process: {raw}")
    api = {"Authorization": f"Token {token('supervisor')}"}
    page = {"Cookie": session_cookie("supervisor")}
    dept_page = {"Cookie": session_cookie("dept_samr")}
    export_cookie = session_cookie("centre")
    connection.close()

    results: dict[str, object] = {
        "deadline_rows": n_deadlines,
        "open_deadlines": n_open,
        "cases": n_cases,
        "gunicorn_workers": args.workers,
        "raw": raw,
        "rows": [],
    }
    with Server(args.workers) as server:
        # each worker's first request loads code, translations and templates: not measured
        for path, headers in (("/api/v1/dashboard/", api), ("/dashboard/", page)):
            run_clients(
                server.port, args.workers, [("GET", path, None, headers)] * 2 * args.workers, {200}
            )
        for n in counts:
            for name, path, headers in (
                ("dashboard_api", "/api/v1/dashboard/", api),
                ("dashboard_page", "/dashboard/", page),
                ("dashboard_page_department", "/dashboard/", dept_page),
            ):
                row = run_clients(
                    server.port, n, [("GET", path, None, headers)] * args.reads, {200}
                )
                row["what"] = name
                results["rows"].append(row)  # type: ignore[union-attr]
                log(f"{name:28} {n:>2} clients: {row}")
    if not args.no_export:
        results["export_csv"] = export_run("/objections/export.csv", export_cookie)
        log(f"CSV export: {results['export_csv']}")

    OUT.mkdir(exist_ok=True)
    (OUT / "oversight.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print(
        f"Dashboard over HTTP — {n_deadlines:,} deadline rows ({n_open:,} open), "
        f"{n_cases:,} cases, gunicorn {args.workers} workers"
    )
    print(
        f"  raw: dashboard computed in-process {raw['in_process_ms']} ms, of which "
        f"{raw['database_ms']} ms in PostgreSQL ({raw['queries']} queries)"
    )
    print(f"  {'what':28} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for row in results["rows"]:  # type: ignore[union-attr]
        print(
            f"  {row['what']:28} {row['clients']:>7} {row['per_second']:>8} "
            f"{row['p50_ms']:>8} {row['p95_ms']:>8}"
        )
    if "export_csv" in results:
        e = results["export_csv"]
        print(
            f"  CSV export: {e['rows']:,} rows, {e['mb']} MB in {e['seconds']} s "
            f"({e['rows_per_second']:,} rows/s, first byte {e['first_byte_ms']} ms); worker peak "
            f"RSS {e['peak_rss_before_mb']} MB before → {e['peak_rss_after_mb']} MB after"
        )


if __name__ == "__main__":
    main()
