"""A real Celery worker on Redis is killed with SIGKILL while notification deliveries and
synchronisation rows are in flight; a new worker and the sweeps finish the work. Counted after:
every (event, recipient, channel) delivered, none lost, the in-app notification and the
synchronisation applied exactly once (late acknowledgement, idempotent delivery, leases), and
every e-mail carrying its row's stable Message-ID.

Needs PostgreSQL and Redis (it skips on a laptop without them and fails in CI)."""

from __future__ import annotations

import datetime
import email
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Delivery, Notification
from sync.models import SyncEvent, SyncTarget
from tests.conftest import skip_or_fail
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
# Celery lets CELERY_BROKER_URL in the environment override any broker given in code, so the
# test uses that one when it is Redis (as in CI), and Redis database 13 otherwise.
_env_broker = os.environ.get("CELERY_BROKER_URL", "")
BROKER = os.environ.get(
    "FAULT_BROKER_URL",
    _env_broker if _env_broker.startswith("redis://") else "redis://127.0.0.1:6379/13",
)
N_INAPP, N_EMAIL, N_SYNC = 150, 150, 150


class Receiver:
    """The other platform: slow enough that a kill lands mid-flight; applies each
    Idempotency-Key once."""

    def __init__(self) -> None:
        self.requests = 0
        self.applied: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(0.02)
                with receiver.lock:
                    receiver.requests += 1
                    key = self.headers["Idempotency-Key"]
                    receiver.applied[key] = receiver.applied.get(key, 0) + 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"


def _worker_settings(tmp_path: Path, mail_dir: Path) -> str:
    """Production-like worker settings plus a slow file e-mail backend (so a kill lands while
    rows are in flight)."""
    module = tmp_path / "fault_worker_settings.py"
    module.write_text(
        textwrap.dedent(
            f"""
            import time
            from django.core.mail.backends.filebased import EmailBackend as _File
            from workflow_app.settings.base import *  # noqa

            class SlowFileBackend(_File):
                def send_messages(self, messages):
                    time.sleep(0.02)
                    return super().send_messages(messages)

            EMAIL_BACKEND = "fault_worker_settings.SlowFileBackend"
            EMAIL_FILE_PATH = {str(mail_dir)!r}
            CELERY_BROKER_TRANSPORT_OPTIONS = {{}}
            """
        )
    )
    return "fault_worker_settings"


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "workflow_app",
            "worker",
            "-c",
            "2",
            "-P",
            "prefork",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
    )


def _done() -> int:
    return (
        Delivery.objects.filter(status="sent").count()
        + SyncEvent.objects.filter(status="delivered").count()
    )


@pytest.mark.django_db(transaction=True)
def test_deliveries_survive_a_worker_killed_mid_flight(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL) for a worker in another process")
    try:
        import redis

        client = redis.Redis.from_url(BROKER)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"needs Redis at {BROKER}: {exc}")
    client.flushdb()
    from celery import Celery

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    receiver = Receiver()
    users = [UserFactory(username=f"fault{i}", email=f"fault{i}@example.com") for i in range(10)]
    target = SyncTarget.objects.create(name="国家平台（测试）", url=receiver.url, token="t")
    now = timezone.now()
    inapp = [
        Delivery(
            event_key=f"fault:{i}",
            event="objection.filed",
            recipient=users[i % 10],
            channel="inapp",
            context={"reference": f"YY{i}"},
        )
        for i in range(N_INAPP)
    ]
    mails = [
        Delivery(
            event_key=f"fault-mail:{i}",
            event="objection.filed",
            recipient=users[i % 10],
            channel="email",
            context={"reference": f"YY{i}"},
        )
        for i in range(N_EMAIL)
    ]
    Delivery.objects.bulk_create(inapp + mails)
    SyncEvent.objects.bulk_create(
        SyncEvent(
            target=target,
            event="record.changed",
            idempotency_key=f"fault-sync-{i}",
            payload={"i": i},
            next_attempt_at=now,
            due_at=now + datetime.timedelta(days=10),
        )
        for i in range(N_SYNC)
    )
    total = N_INAPP + N_EMAIL + N_SYNC

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": _worker_settings(tmp_path, mail_dir),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)  # the sender and the worker share a broker
    sender = Celery(broker=BROKER)
    d_ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    s_ids = list(SyncEvent.objects.order_by("id").values_list("id", flat=True))
    # interleave the kinds of work so the kill lands among all of them
    for i in range(max(len(d_ids), len(s_ids))):
        if i < len(d_ids):
            sender.send_task("notifications.tasks.deliver_task", args=[d_ids[i]])
        if i < len(s_ids):
            sender.send_task("sync.tasks.deliver_sync_event", args=[s_ids[i]])

    log = tmp_path / "worker.log"
    worker = _start_worker(env, log)
    try:
        deadline = time.monotonic() + 180  # a loaded CI machine starts a worker slowly
        while _done() < total * 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        done_at_kill = _done()
        assert 0 < done_at_kill < total, (
            done_at_kill,
            client.llen("celery"),
            log.read_text()[-4000:],
        )

        # a new worker takes the queue over; then time passes (the 60 s redelivery age and the
        # synchronisation lease) and the sweeps queue what the dead worker held
        worker = _start_worker(env, log)
        deadline = time.monotonic() + 90
        swept = False
        while _done() < total and time.monotonic() < deadline:
            if not swept and not client.llen("celery"):
                Delivery.objects.filter(status="pending").update(
                    created_at=timezone.now() - datetime.timedelta(minutes=5)
                )
                SyncEvent.objects.filter(status="pending").update(next_attempt_at=timezone.now())
                sender.send_task("processes.tasks.run_sweeps_task")
                swept = True
            time.sleep(0.1)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        receiver.server.shutdown()
        client.flushdb()

    # nothing lost
    assert Delivery.objects.exclude(status="sent").count() == 0, log.read_text()[-3000:]
    assert SyncEvent.objects.exclude(status="delivered").count() == 0
    # in-app: exactly one notification per (event, recipient)
    assert Notification.objects.filter(event_key__startswith="fault:").count() == N_INAPP
    # synchronisation: every key applied once by the receiver (resends are recognised)
    assert len(receiver.applied) == N_SYNC and sum(receiver.applied.values()) >= N_SYNC
    # e-mail: every row's message written, each with its row's own Message-ID
    ids = [
        email.message_from_bytes(part)["Message-ID"]
        for f in mail_dir.iterdir()
        for part in f.read_bytes().split(b"\n" + b"-" * 79 + b"\n")
        if part.strip()
    ]
    mail_ids = {
        f"<delivery-{pk}@"
        for pk in Delivery.objects.filter(channel="email").values_list("pk", flat=True)
    }
    assert {i.split("@")[0] + "@" for i in ids} == mail_ids
    resent_mail = len(ids) - len(set(ids))
    resent_sync = sum(receiver.applied.values()) - N_SYNC
    print(
        json.dumps(
            {
                "rows": total,
                "done_when_killed": done_at_kill,
                "lost": 0,
                "inapp_duplicates": 0,
                "sync_resends_deduplicated_by_key": resent_sync,
                "mail_resends_with_same_message_id": resent_mail,
            }
        ),
        file=sys.stderr,
    )
    # a resend can only be a message that was in flight at the kill (2 pool processes)
    assert resent_mail <= 2 and resent_sync <= 2
