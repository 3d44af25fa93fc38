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
        part = rollup_part()
        today = (
            f", and {part.day} up to {timezone.localtime(part.through):%H:%M:%S}" if part else ""
        )
        self.stdout.write(f"{added} day(s) added; rollups now end on {built_until()}{today}")
