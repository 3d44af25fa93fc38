"""Queue benchmark on PostgreSQL (issue: speed at scale).

Generates, set-based in SQL: 1,000,000 credit records, 200,000 objections in every state with
their process and task rows (done tasks for closed cases), and 20,000 open tasks; then measures
in-process (Django test client, no network):

* the caseworker queue page ``/queue/`` and ``GET /api/v1/tasks/`` — median and p95, for a centre
  caseworker, a department caseworker and a supervisor (who sees every open task);
* task completions per second through ``POST /api/v1/tasks/{id}/complete/``.

Usage: ``make bench`` (BENCH_ARGS="--records 200000 --objections 40000 --open 4000" for a
smaller run; ``--keep`` reuses generated data).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

OUT = ROOT / "bench" / "out"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ensure_database() -> None:
    import psycopg

    settings_db = connection.settings_dict
    name = settings_db["NAME"]
    with psycopg.connect(
        host=settings_db["HOST"] or "127.0.0.1",
        port=settings_db["PORT"] or 5432,
        user=settings_db["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def generate(records: int, objections: int, open_tasks: int) -> None:
    from bench.audit_rows import copy_chains
    from processes.models import CaseTask
    from processes.services import case_file
    from tests.factories import make_uscc
    from workflow_app.accounts.models import User
    from workflow_app.registry.models import CreditRecord, Department, Subject

    log("seeding demo users and departments")
    call_command("seed_demo", force=True, verbosity=0)
    applicant = User.objects.get(username="applicant")
    # one real objection through the services gives us the flow_task reference values
    rec = CreditRecord.objects.filter(subject_id=applicant.subject_id, status="published").first()
    probe = case_file(
        "objection",
        applicant=applicant,
        record_id=rec.pk,
        grounds="error",
        description="probe",
        commitment_accepted=True,
    )
    intake = CaseTask.objects.get(case_id=probe.pk, step="objection_intake")
    {
        "intake": str(CaseTask._meta.get_field("flow_task").get_prep_value(intake.flow_task)),
    }
    flow_class_ref = connection.ops.quote_name("flow_class")
    with connection.cursor() as c:
        c.execute(
            f"SELECT {flow_class_ref} FROM processes_caseprocess WHERE id=%s", [intake.process_id]
        )
        process_flow = c.fetchone()[0]
        c.execute("SELECT flow_task, token FROM processes_casetask WHERE id=%s", [intake.pk])
        intake_ref, token = c.fetchone()
    base = intake_ref.rsplit(".", 1)[0]
    refs = {s: f"{base}.{s}" for s in ("start", "intake", "platform_check", "verification", "end")}
    depts = list(Department.objects.values_list("id", "code"))
    n_subjects = max(1000, records // 10)

    log(f"generating {n_subjects:,} subjects")
    Subject.objects.bulk_create(
        [
            Subject(
                kind="legal_person",
                name=f"基准企业{i}",
                identifier=make_uscc(10_000_000 + i),
                identifier_display=make_uscc(10_000_000 + i),
                grade="BBB",
            )
            for i in range(n_subjects)
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id) FROM registry_subject WHERE name LIKE '基准企业%%'")
        s_min, s_max = c.fetchone()
        span = s_max - s_min + 1
        dept_ids = "ARRAY[" + ",".join(str(d[0]) for d in depts) + "]"
        log(f"generating {records:,} credit records")
        c.execute(
            f"""
            INSERT INTO registry_creditrecord
              (subject_id, department_id, external_id, version, category, nature, severity, title,
               content, decision_date, publicity_start, publicity_end, status, under_objection,
               note, created_at, updated_at)
            SELECT {s_min} + (g % {span}), ({dept_ids})[1 + g % {len(depts)}], 'BENCH-' || g, 1,
                   (ARRAY['basic','licence','penalty','judicial','supervision','honour','risk','other'])[1 + g % 8],
                   CASE WHEN g % 3 = 0 THEN 'dishonesty' WHEN g % 3 = 1 THEN 'positive' ELSE 'neutral' END,
                   CASE WHEN g % 3 = 0 THEN (ARRAY['minor','general','serious'])[1 + g % 9 / 3] ELSE '' END,
                   '基准信用信息 ' || g, '内容 ' || g,
                   (now() - (g % 600) * interval '1 day' - (g % 17) * interval '1 day')::date,
                   (now() - (g % 600) * interval '1 day' - (g % 17) * interval '1 day')::date,
                   DATE '2028-01-01', 'published', false, '',
                   now() - (g % 600) * interval '1 day', now() - (g % 600) * interval '1 day'
            FROM generate_series(1, {records}) g
            """
        )
        log(f"generating {objections:,} objections ({open_tasks:,} open) with processes and tasks")
        c.execute("SELECT id FROM accounts_user WHERE username='applicant'")
        applicant_id = c.fetchone()[0]
        c.execute("SELECT min(id) FROM registry_creditrecord WHERE external_id LIKE 'BENCH-%%'")
        r_min = c.fetchone()[0]
        closed = objections - open_tasks
        # objections: the first `open_tasks` are open (submitted/accepted/forwarded), the rest closed
        c.execute(
            f"""
            INSERT INTO objections_objection
              (reference, subject_id, record_id, applicant_id, grounds, description,
               commitment_accepted, commitment_text, status, outcome, decision_reason,
               supplement_request, supplement_response, policy_snapshot, policy_version, filed_at,
               decided_at, updated_at, result_record_id)
            SELECT 'BENCH' || lpad(g::text, 8, '0'), r.subject_id, r.id, {applicant_id}, 'error', '基准异议',
                   true, '',
                   CASE WHEN g <= {open_tasks} THEN (ARRAY['submitted','accepted','forwarded'])[1 + g %% 3]
                        ELSE (ARRAY['resolved','not_accepted','withdrawn','resolved'])[1 + g %% 4] END,
                   CASE WHEN g > {open_tasks} AND g %% 4 IN (0, 3) THEN 'confirmed' ELSE '' END,
                   '', '', '', %s::jsonb, NULL, now() - (g %% 400) * interval '1 day',
                   NULL, now(), NULL
            FROM generate_series(1, {objections}) g
            JOIN registry_creditrecord r ON r.id = {r_min} + (g * 5)
            """,
            [json.dumps(probe.policy_snapshot)],
        )
        c.execute("SELECT min(id) FROM objections_objection WHERE reference LIKE 'BENCH%%'")
        o_min = c.fetchone()[0]
        c.execute(
            f"""
            INSERT INTO processes_caseprocess (flow_class, status, created, finished, case_kind, case_id, data)
            SELECT %s, CASE WHEN o.status IN ('submitted','accepted','forwarded') THEN 'NEW' ELSE 'DONE' END,
                   o.filed_at, NULL, 'objection', o.id, '{{}}'::jsonb
            FROM objections_objection o WHERE o.id >= {o_min}
            """,
            [process_flow],
        )
        # three finished tasks per closed case, one open task per open case
        c.execute(
            f"""
            INSERT INTO processes_casetask
              (flow_task, flow_task_type, status, created, assigned, started, finished, scheduled,
               token, external_task_id, owner_id, owner_permission, owner_permission_content_type_id,
               owner_permission_obj_pk, process_id, data, seed_content_type_id, seed_object_id,
               artifact_content_type_id, artifact_object_id, case_kind, case_id, case_reference,
               step, queue, department_id, deadline_id, due_at, completed_by_id,
               subject_name, record_title, case_status)
            SELECT
              CASE WHEN p.status = 'DONE' THEN (ARRAY[%s, %s, %s])[k]
                   WHEN o.status = 'submitted' THEN %s WHEN o.status = 'accepted' THEN %s ELSE %s END,
              'HUMAN', CASE WHEN p.status = 'DONE' THEN 'DONE' ELSE 'NEW' END, o.filed_at, NULL, NULL,
              CASE WHEN p.status = 'DONE' THEN o.filed_at + interval '3 day' END, NULL, %s, NULL, NULL,
              NULL, NULL, NULL, p.id, '{{}}'::jsonb, NULL, NULL, NULL, NULL, 'objection', o.id,
              o.reference,
              CASE WHEN p.status = 'DONE' THEN (ARRAY['objection_intake','objection_platform_check','objection_verification'])[k]
                   WHEN o.status = 'submitted' THEN 'objection_intake'
                   WHEN o.status = 'accepted' THEN 'objection_platform_check' ELSE 'objection_verification' END,
              CASE WHEN o.status = 'forwarded' THEN 'dept:' || d.code ELSE 'centre' END,
              CASE WHEN o.status = 'forwarded' THEN d.id END,
              NULL, now() + ((o.id %% 30) - 5) * interval '1 day', NULL,
              s.name, r.title, o.status
            FROM objections_objection o
            JOIN registry_subject s ON s.id = o.subject_id
            JOIN processes_caseprocess p ON p.case_kind = 'objection' AND p.case_id = o.id
            JOIN registry_creditrecord r ON r.id = o.record_id
            JOIN registry_department d ON d.id = r.department_id
            CROSS JOIN generate_series(1, 3) k
            WHERE o.id >= {o_min} AND (p.status = 'DONE' OR k = 1)
            """,
            [
                refs["intake"],
                refs["platform_check"],
                refs["verification"],
                refs["intake"],
                refs["platform_check"],
                refs["verification"],
                token,
            ],
        )
        # each open task's deadline (the step's time limit, which the completion closes), as
        # the services open it with the task
        c.execute(
            f"""
            WITH opened AS (
              INSERT INTO workdays_deadline
                (case_kind, case_id, case_reference, kind, start_at, unit, amount, due_at,
                 provisional, basis, status, closed_at, remind_at, reminded_at, escalated_at,
                 queue, assignee_id, department_id, created_at)
              SELECT 'objection', t.case_id, t.case_reference, t.step, t.created, 'working_days',
                     5, t.due_at, false, '{{"bench": true}}'::jsonb, 'open', NULL,
                     t.due_at - interval '2 day', NULL, NULL, t.queue, NULL, r.department_id,
                     t.created
              FROM processes_casetask t
              JOIN objections_objection o ON o.id = t.case_id
              JOIN registry_creditrecord r ON r.id = o.record_id  -- the case's department
              WHERE t.case_kind = 'objection' AND t.case_id >= {o_min} AND t.status = 'NEW'
              RETURNING id, case_id
            )
            UPDATE processes_casetask t SET deadline_id = opened.id
            FROM opened
            WHERE t.case_kind = 'objection' AND t.case_id = opened.case_id AND t.status = 'NEW'
            """
        )
        # each case's filing entry and its audit chain, as filing through the services leaves
        # them (the next transition appends to that chain instead of creating it)
        c.execute(f"SELECT id, filed_at FROM objections_objection WHERE id >= {o_min} ORDER BY id")
        filed = c.fetchall()
        copy_chains(
            (
                "objection",
                case_id,
                [
                    {
                        "event": "transition",
                        "from_state": "",
                        "to_state": "submitted",
                        "actor_id": applicant.pk,
                        "actor_label": applicant.username,
                        "at": filed_at,
                        "reason": "",
                        "task": "",
                        "data": {"msg": "objection.submitted", "params": {}},
                    }
                ],
            )
            for case_id, filed_at in filed
        )
        log(f"audit chains: {len(filed):,}")
        c.execute(
            f"UPDATE registry_creditrecord SET under_objection = true WHERE id IN "
            f"(SELECT record_id FROM objections_objection WHERE id >= {o_min} AND status IN ('accepted','forwarded'))"
        )
        c.execute("ANALYZE")
        log(f"closed objections: {closed:,}")


def measure(client, url: str, n: int) -> dict[str, float]:
    times = []
    for _ in range(3):
        client.get(url)  # warm-up
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "n": n,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--objections", type=int, default=200_000)
    ap.add_argument("--open", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--completions", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="reuse the generated database")
    args = ap.parse_args()

    ensure_database()
    from workflow_app.accounts.models import User

    have = False
    if args.keep:
        try:
            from processes.models import CaseTask

            have = CaseTask.objects.exists()
        except Exception:  # noqa: BLE001 - fresh database
            have = False
    if not have:
        log("resetting the benchmark database")
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        generate(args.records, args.objections, args.open)
        log(f"generated in {time.perf_counter() - t0:.0f} s")

    from processes.models import CaseTask

    open_count = CaseTask.objects.filter(status__in=["NEW", "ASSIGNED"]).exclude(queue="").count()
    total = CaseTask.objects.count()
    log(f"{open_count:,} open tasks of {total:,} task rows")
    results: dict[str, object] = {"open_tasks": open_count, "task_rows": total}
    for username in ("centre", "dept_samr", "supervisor"):
        user = User.objects.get(username=username)
        web = Client()
        web.force_login(user)
        api = APIClient()
        api.force_authenticate(user=user)
        results[f"queue_page[{username}]"] = measure(web, "/queue/", args.requests)
        results[f"api_tasks[{username}]"] = measure(api, "/api/v1/tasks/", args.requests)
        results[f"api_tasks_overdue[{username}]"] = measure(
            api, "/api/v1/tasks/?due=overdue", args.requests // 2
        )
        log(f"{username}: {results[f'queue_page[{username}]']} {results[f'api_tasks[{username}]']}")

    centre = User.objects.get(username="centre")
    api = APIClient()
    api.force_authenticate(user=centre)
    ids = list(
        CaseTask.objects.filter(status="NEW", step="objection_intake", queue="centre")
        .order_by("due_at")
        .values_list("id", flat=True)[: args.completions]
    )
    t0 = time.perf_counter()
    for task_id in ids:
        r = api.post(f"/api/v1/tasks/{task_id}/complete/", {"decision": "accept"}, format="json")
        assert r.status_code == 200, r.content
    elapsed = time.perf_counter() - t0
    results["completions_per_second"] = round(len(ids) / elapsed, 1) if ids else 0
    log(f"{len(ids)} completions in {elapsed:.1f} s = {results['completions_per_second']}/s")

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
