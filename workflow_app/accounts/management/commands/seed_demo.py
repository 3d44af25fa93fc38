from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflow_app.accounts.demo import DEMO_PASSWORD, USERS, demo_data_seed


class Command(BaseCommand):
    help = (
        "Create the demo departments, enterprises, credit records and users (idempotent). "
        "Refused outside DEPLOYMENT_ENV=development unless --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even though DEPLOYMENT_ENV is not 'development' (creates known passwords!)",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        env = getattr(settings, "DEPLOYMENT_ENV", "development")
        if env != "development" and not force:
            raise CommandError(
                f"seed_demo refused: DEPLOYMENT_ENV is '{env}', not 'development'. Demo users "
                f"have a published password ({DEMO_PASSWORD}). Re-run with --force only if "
                "you really want demo data in this environment."
            )
        summary = demo_data_seed()
        for kind in ("departments", "subjects", "records", "users"):
            self.stdout.write(
                f"{kind:<12} created {summary.created.get(kind, 0):>3}, "
                f"already present {summary.existing.get(kind, 0):>3}"
            )
        names = ", ".join(u["username"] for u in USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo users: {names} — password {DEMO_PASSWORD}"))
