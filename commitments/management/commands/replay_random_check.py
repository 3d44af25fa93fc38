"""Recompute a stored random check from its seed and population; exit 1 if it does not match."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commitments.models import RandomCheck
from commitments.services import random_check_replay


class Command(BaseCommand):
    help = "Replay a stored 双随机 draw and say whether the result matches."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("check_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        check = RandomCheck.objects.filter(pk=options["check_id"]).first()
        if check is None:
            raise CommandError(f"random check #{options['check_id']} does not exist")
        result = random_check_replay(check)
        self.stdout.write(
            f"random check #{check.pk}: seed {check.seed}, population {len(check.population)}, "
            f"drawn {len(check.drawn)}; replay drawn {len(result['drawn'])}"
        )
        if not (result["matches"] and result["assignees_match"]):
            raise CommandError("the replay does NOT match the stored draw")
        self.stdout.write(self.style.SUCCESS("the replay matches the stored draw"))
