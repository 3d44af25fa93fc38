import os
import sys

from django.core.management.base import BaseCommand
from django.db import connection

from workflow_app.audit.models import AuditChain, TransitionLog
from workflow_app.audit.services import verify_all_chains, verify_chains


class Command(BaseCommand):
    help = "Verify every hash chain of the transition log; exit 1 naming the first broken entry."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--chain", help="verify one chain only, e.g. objection:42")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="processes over disjoint ranges of chains (PostgreSQL; default: one per core)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options.get("chain"):
            problems = verify_chains(chain_key=options["chain"])
        else:
            jobs = options.get("jobs")
            if jobs is None:
                jobs = (os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
            problems = verify_all_chains(jobs=max(jobs, 1))
        if problems:
            self.stderr.write(f"BROKEN: {problems[0]}")
            if len(problems) > 1:
                self.stderr.write(f"{len(problems)} problems in all:")
                for p in problems[:50]:
                    self.stderr.write(f"  - {p}")
            sys.exit(1)
        chains = AuditChain.objects.count()
        entries = TransitionLog.objects.count()
        self.stdout.write(f"OK: {chains} chains, {entries} entries verified")
