from django.core.management.base import BaseCommand

from oversight.rollups import built_until, rollup_build, rollup_clear


class Command(BaseCommand):
    help = (
        "Sum every ended day into the dashboard's daily rollups (beat runs it hourly); "
        "--rebuild forgets them first."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, rebuild: bool = False, **options) -> None:  # type: ignore[no-untyped-def]
        if rebuild:
            rollup_clear()
        added = rollup_build()
        self.stdout.write(f"{added} day(s) added; rollups now end on {built_until()}")
