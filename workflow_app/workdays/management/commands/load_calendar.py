"""``python manage.py load_calendar FILE``: load a year's official holidays and make-up days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from workflow_app.workdays.services import calendar_load, calendar_parse_csv


class Command(BaseCommand):
    help = _(
        "从 CSV 文件（表头 date,kind；kind 为 holiday 或 workday；日期格式 YYYY-MM-DD）"
        "导入法定节假日和调休上班日，并重新计算进行中的临时期限。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("CSV 文件路径"))
        parser.add_argument(
            "--source",
            default="",
            help=_("来源说明，例如国务院办公厅通知文号（默认使用文件名）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise CommandError(_("找不到文件：%(path)s") % {"path": path}) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                _("文件 %(path)s 不是 UTF-8 编码，请另存为 UTF-8 后重试。") % {"path": path}
            ) from exc
        except OSError as exc:
            raise CommandError(
                _("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc}
            ) from exc

        entries, errors = calendar_parse_csv(text)
        if errors:
            raise CommandError(
                _("文件 %(path)s 有 %(count)s 处错误，未导入任何数据：")
                % {"path": path, "count": len(errors)}
                + "\n"
                + "\n".join(errors)
            )

        result = calendar_load(entries=entries, source=options["source"] or path.name)
        years = "、".join(str(y) for y in result.years)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已导入 %(years)s 年日历：新增 %(created)s 天，更新 %(updated)s 天，"
                    "未变 %(unchanged)s 天。"
                )
                % {
                    "years": years,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
            )
        )
        self.stdout.write(
            _("已重新计算 %(count)s 个进行中的临时期限。") % {"count": len(result.recomputed)}
        )
