from django.core.management.base import BaseCommand

from processes.sweeps import run_all


class Command(BaseCommand):
    help = (
        "Run every periodic sweep once (reminders, overdue escalation, supplement lapses, "
        "redelivery of notifications) — the same code the scheduler runs."
    )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        result = run_all()
        for name, count in result.items():
            self.stdout.write(f"{name}: {count}")
