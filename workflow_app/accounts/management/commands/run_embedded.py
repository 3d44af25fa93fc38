"""Embedded mode: one web process with a Celery worker and the scheduler beside it.

Starts ``celery -A workflow_app worker --pool=solo --concurrency=1 -B`` (embedded beat, schedule
file in ``var/``) and ``manage.py runserver --noreload`` as child processes, prefixes and
forwards their output, and stops all of them when one dies or on Ctrl-C / SIGTERM
(terminate, wait up to 10 seconds, then kill).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT_SECONDS = 10


def celery_command() -> list[str]:
    binary = Path(sys.executable).with_name("celery")
    return [str(binary)] if binary.exists() else [sys.executable, "-m", "celery"]


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and the scheduler together (embedded mode)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="address:port for the web server"
        )
        parser.add_argument("--loglevel", default="info", help="Celery log level")

    def handle(self, *args, addr: str, loglevel: str, **options) -> None:
        base_dir = Path(settings.BASE_DIR)
        broker_dir = Path(settings.BROKER_DIR)
        (broker_dir / "processed").mkdir(parents=True, exist_ok=True)
        schedule = Path(
            getattr(settings, "CELERY_BEAT_SCHEDULE_FILENAME", broker_dir.parent / "celerybeat")
        )
        schedule.parent.mkdir(parents=True, exist_ok=True)

        env = os.environ.copy()
        env.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.dev")
        env["PYTHONUNBUFFERED"] = "1"
        children = {
            "worker": [
                *celery_command(),
                "-A",
                "workflow_app",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-B",
                "--schedule-filename",
                str(schedule),
                "-l",
                loglevel,
            ],
            "web": [
                sys.executable,
                str(base_dir / "manage.py"),
                "runserver",
                addr,
                "--noreload",
            ],
        }

        stopping = threading.Event()

        def request_stop(signum, frame) -> None:  # noqa: ARG001
            stopping.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        processes: dict[str, subprocess.Popen] = {}
        failed: str | None = None
        try:
            for name, cmd in children.items():
                self.stdout.write(f"[embedded] starting {name}: {' '.join(cmd)}")
                proc = subprocess.Popen(
                    cmd,
                    cwd=base_dir,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    # Own session: Ctrl-C reaches only us, and we stop the children in order.
                    start_new_session=True,
                )
                processes[name] = proc
                threading.Thread(
                    target=self._forward, args=(name, proc.stdout), daemon=True
                ).start()
            self.stdout.write(f"[embedded] serving on http://{addr}/ — Ctrl-C stops everything")
            while not stopping.is_set():
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        failed = f"{name} exited with status {proc.returncode}"
                        stopping.set()
                        break
                stopping.wait(0.5)
        finally:
            self._stop_all(processes)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            raise CommandError(f"embedded mode stopped: {failed}")
        self.stdout.write("[embedded] stopped")

    def _forward(self, name: str, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.stdout.write(f"[{name}] {line}")
            self.stdout.flush()

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        """Signal the child's whole process group (it leads its own session)."""
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        running = {n: p for n, p in processes.items() if p.poll() is None}
        for name, proc in running.items():
            self.stdout.write(f"[embedded] stopping {name} (pid {proc.pid})")
            self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, proc in running.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stdout.write(f"[embedded] {name} did not stop in time; killing it")
                self._signal(proc, signal.SIGKILL)
                proc.wait()
