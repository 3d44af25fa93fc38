"""Whole-population jobs at scale, on PostgreSQL: ``verify_audit`` over 1M hash-chained entries
(entries per second), and ``run_sweeps`` over 1M open deadlines — once when nothing is due (what
finding the due rows costs) and once with a number of rows due (what each reminder/escalation
costs: a notification, its outbox rows and an audit entry, each in its own transaction).

Runs on the database of ``bench/run.py`` (``make bench-scale``; ``make bench`` runs it last).
The audit entries it adds stay (chains of kind ``bench``); the 1M sweep deadlines are removed
again at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

OUT = ROOT / "bench" / "out"
SWEEP_KIND = "objection"
SWEEP_STEP = "bench_sweep"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ensure_audit_entries(target: int, per_chain: int = 5) -> int:
    """Hash-chained entries (the real ``entry_hash``) written with COPY until there are
    ``target``; chains of ``per_chain`` entries, as a case's life would make them."""
    from bench.audit_rows import copy_chains
    from workflow_app.audit.models import TransitionLog

    have = TransitionLog.objects.count()
    if have >= target:
        return have
    with connection.cursor() as c:
        c.execute(
            "SELECT coalesce(max(case_id), 0) FROM audit_transitionlog WHERE case_kind='bench'"
        )
        first_case = c.fetchone()[0] + 1
    need = target - have
    chains = (need + per_chain - 1) // per_chain
    log(f"writing {chains * per_chain:,} audit entries in {chains:,} chains (COPY)")
    start = timezone.now() - datetime.timedelta(days=400)
    t0 = time.perf_counter()

    def chain(n: int) -> tuple[str, int, list[dict[str, object]]]:
        case_id = first_case + n
        return (
            "bench",
            case_id,
            [
                {
                    "event": "transition",
                    "from_state": "submitted" if seq > 1 else "",
                    "to_state": "accepted",
                    "actor_id": None,
                    "actor_label": "centre",
                    "at": start + datetime.timedelta(seconds=n * 7 + seq),
                    "reason": "基准",
                    "task": "objection_intake",
                    # codes with parameters, as the services write them (each entry its own)
                    "data": {
                        "msg": "objection.accepted" if seq > 1 else "objection.filed",
                        "params": {"reference": f"YY2026{case_id:08d}", "step": seq},
                    },
                }
                for seq in range(1, per_chain + 1)
            ],
        )

    copy_chains(chain(n) for n in range(chains))
    log(f"written in {time.perf_counter() - t0:.0f} s")
    with connection.cursor() as c:
        c.execute("ANALYZE audit_transitionlog")
    return TransitionLog.objects.count()


def verify_figures() -> dict[str, float]:
    """``verify_chains`` in one process, ``verify_all_chains`` with one process per core, and
    the command as an operator runs it (start-up included)."""
    from workflow_app.audit.models import TransitionLog
    from workflow_app.audit.services import verify_all_chains, verify_chains

    entries = TransitionLog.objects.count()
    jobs = os.cpu_count() or 1
    t0 = time.perf_counter()
    problems = verify_chains()
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    parallel_problems = verify_all_chains(jobs=jobs)
    parallel_seconds = time.perf_counter() - t0
    connection.close()
    t1 = time.perf_counter()
    cmd = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "verify_audit"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    command_seconds = time.perf_counter() - t1
    return {
        "entries": entries,
        "problems": len(problems),
        "seconds": round(seconds, 1),
        "entries_per_second": round(entries / seconds),
        "jobs": jobs,
        "parallel_problems": len(parallel_problems),
        "parallel_seconds": round(parallel_seconds, 1),
        "parallel_entries_per_second": round(entries / parallel_seconds),
        "command_seconds": round(command_seconds, 1),
        "command_exit": cmd.returncode,
    }


def insert_sweep_deadlines(n: int, due_now: int) -> None:
    """``n`` open deadlines over real objections, due 1–400 days ahead; ``due_now`` of them
    in their reminder window and ``due_now`` past due (escalation)."""
    with connection.cursor() as c:
        c.execute(
            "SELECT min(id), count(*) FROM objections_objection WHERE reference LIKE 'BENCH%%'"
        )
        o_min, n_obj = c.fetchone()
        c.execute(
            f"""
            INSERT INTO workdays_deadline
              (case_kind, case_id, case_reference, kind, start_at, unit, amount, due_at,
               provisional, basis, status, closed_at, remind_at, reminded_at, escalated_at, queue,
               assignee_id, department_id, created_at)
            SELECT '{SWEEP_KIND}', o.id, o.reference, '{SWEEP_STEP}', now(),
                   'working_days', 2, d.due_at, false, '{{}}'::jsonb, 'open', NULL,
                   d.due_at - interval '2 day', NULL, NULL, 'centre', NULL, NULL, now()
            FROM generate_series(1, {n}) g
            JOIN objections_objection o ON o.id = {o_min} + (g % {n_obj})
            CROSS JOIN LATERAL (
              SELECT CASE WHEN g <= {due_now} THEN now() + interval '1 day'
                          WHEN g <= {2 * due_now} THEN now() - interval '1 day'
                          ELSE now() + (3 + g % 400) * interval '1 day' END AS due_at) d
            """
        )
        c.execute("ANALYZE workdays_deadline")


def remove_sweep_deadlines() -> None:
    """Delete the sweep deadlines and rebuild the partial indexes of open deadlines: a million
    rows in and out leave them hundreds of MB large, and the dashboard measured after this
    (or the next ``make bench``) would scan the table instead."""
    with connection.cursor() as c:
        c.execute(f"DELETE FROM workdays_deadline WHERE kind = '{SWEEP_STEP}'")
        for index in ("deadline_open_dashboard", "deadline_open_due", "deadline_to_escalate"):
            c.execute(f"REINDEX INDEX {index}")
        c.execute("ANALYZE workdays_deadline")


def sweep_once() -> tuple[float, dict[str, int]]:
    from processes.sweeps import run_all

    t0 = time.perf_counter()
    result = run_all()
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--audit-entries", type=int, default=1_000_000)
    ap.add_argument("--sweep-deadlines", type=int, default=1_000_000)
    ap.add_argument(
        "--due", type=int, default=500, help="deadlines due for reminder and escalation"
    )
    ap.add_argument("--skip-verify", action="store_true")
    args = ap.parse_args()
    results: dict[str, object] = {}

    if not args.skip_verify:
        ensure_audit_entries(args.audit_entries)
        results["verify_audit"] = verify_figures()
        log(f"verify_audit: {results['verify_audit']}")

    # The generated data has thousands of overdue steps nobody was reminded of; mark them handled
    # (set-based) so that the figures below are about the 1M deadlines inserted for them.
    with connection.cursor() as c:
        c.execute(
            "UPDATE workdays_deadline SET reminded_at = now(), escalated_at = now() "
            "WHERE status = 'open' AND (reminded_at IS NULL OR escalated_at IS NULL)"
        )
    log(f"inserting {args.sweep_deadlines:,} open deadlines")
    insert_sweep_deadlines(args.sweep_deadlines, 0)
    idle, idle_result = sweep_once()
    remove_sweep_deadlines()
    insert_sweep_deadlines(args.sweep_deadlines, args.due)
    busy, busy_result = sweep_once()
    again, again_result = sweep_once()
    remove_sweep_deadlines()
    results["sweeps"] = {
        "open_deadlines": args.sweep_deadlines,
        "nothing_due_seconds": round(idle, 2),
        "due": args.due,
        "with_due_seconds": round(busy, 2),
        "reminders": busy_result.get("reminders"),
        "escalations": busy_result.get("escalations"),
        "per_due_row_ms": round(
            busy
            * 1000
            / max(1, busy_result.get("reminders", 0) + busy_result.get("escalations", 0)),
            1,
        ),
        "second_run_seconds": round(again, 2),
        "second_run_sent": again_result.get("reminders", 0) + again_result.get("escalations", 0),
    }
    log(f"sweeps: {results['sweeps']}")

    OUT.mkdir(exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    v, s = results.get("verify_audit"), results["sweeps"]
    print()
    if v:
        print(
            f"verify_audit: {v['entries']:,} entries in {v['seconds']} s = "  # type: ignore[index]
            f"{v['entries_per_second']:,} entries/s in one process ({v['problems']} problems); "  # type: ignore[index]
            f"{v['jobs']} processes: {v['parallel_seconds']} s = "  # type: ignore[index]
            f"{v['parallel_entries_per_second']:,} entries/s; the command: "  # type: ignore[index]
            f"{v['command_seconds']} s"  # type: ignore[index]
        )
    print(
        f"run_sweeps over {s['open_deadlines']:,} open deadlines: {s['nothing_due_seconds']} s "  # type: ignore[index]
        f"when nothing is due; {s['with_due_seconds']} s with {s['due']} reminders + "  # type: ignore[index]
        f"{s['due']} escalations due ({s['per_due_row_ms']} ms per row); run again: "  # type: ignore[index]
        f"{s['second_run_seconds']} s, {s['second_run_sent']} sent"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
