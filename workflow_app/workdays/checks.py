"""System check: warn administrators when the working-day calendar does not cover a year.

Years checked: the current year, next year during December (the State Council usually publishes
the coming year's holidays in November or December), and every year an open provisional
deadline touches. A database without tables yet (before ``migrate``) is not an error here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.checks import CheckMessage, Warning, register
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _


def _today() -> date:
    return timezone.localdate()


def _years_to_check() -> set[int]:
    from .models import Deadline

    today = _today()
    years = {today.year}
    if today.month == 12:
        years.add(today.year + 1)
    open_provisional = Deadline.objects.filter(status=Deadline.Status.OPEN, provisional=True)
    for field in ("start_at", "due_at"):
        years.update(d.year for d in open_provisional.dates(field, "year"))
    return years


def uncovered_years() -> list[int]:
    """The checked years that have no official calendar (neither the package nor loaded data)."""
    from .calendar import invalidate_cache, is_year_covered

    invalidate_cache()
    return sorted(y for y in _years_to_check() if not is_year_covered(y))


@register("calendar")
def check_calendar_coverage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        missing = uncovered_years()
    except DatabaseError:
        return []
    if not missing:
        return []
    years = "、".join(str(y) for y in missing)
    return [
        Warning(
            _("%(years)s 年的工作日日历尚未导入，相关期限只能按周末临时计算。") % {"years": years},
            hint=_(
                "请根据国务院办公厅的节假日安排通知制作 CSV 文件（表头 date,kind），"
                "执行 python manage.py load_calendar 文件路径 导入；"
                "导入后进行中的临时期限会自动重新计算。"
            ),
            id="workdays.W001",
        )
    ]
