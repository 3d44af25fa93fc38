from django.core.management.base import BaseCommand
from django.utils import timezone

from oversight.rollups import built_until, rollup_build, rollup_clear, rollup_part


class Command(BaseCommand):
    help = (
        "Sum every ended day, and the day going on up to ten minutes ago, into the dashboard's "
        "rollups (beat runs it every ten minutes); --rebuild forgets them first."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, rebuild: bool = False, **options) -> None:  # type: ignore[no-untyped-def]
        if rebuild:
            rollup_clear()
        added = rollup_build()
        whole, part = built_until(), rollup_part()
        summed = f"rollups now end on {whole}" if whole else "no ended day to sum yet"
        if part is not None:
            summed += f"; {part.day} summed up to {timezone.localtime(part.through):%H:%M:%S}"
        self.stdout.write(f"{added} day(s) added; {summed}")
