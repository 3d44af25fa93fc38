"""Exports of a filtered case list to CSV (streamed row by row from a server-side cursor, so a
200,000-row export holds one chunk in memory) or XLSX (openpyxl's write-only workbook into a
temporary file, then streamed). Every export is recorded (``ExportLog``): who, when, which
filter, how many rows — the count is written when the last row has been produced."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import Any

from django.db.models import F, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ExportLog

CHUNK = 2000


def _header() -> list[str]:
    return [_("编号"), _("状态"), _("主体名称"), _("主体代码"), _("所涉部门"), _("提交时间")]


def _rows(k: Any, qs: QuerySet[Any]) -> Iterator[list[str]]:
    labels = {code: str(label) for code, label in k.status_labels().items()}
    fields = (
        "reference",
        "status",
        "subject__name",
        "subject__identifier_display",
        k.department_field,
        k.filed_field,
    )
    for ref, status, name, code, dept, filed in qs.values_list(*fields).iterator(chunk_size=CHUNK):
        yield [
            ref,
            labels.get(status, status),
            name,
            code,
            dept or "",
            timezone.localtime(filed).strftime("%Y-%m-%d %H:%M") if filed else "",
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _counted(rows: Iterator[list[str]], log: ExportLog) -> Iterator[list[str]]:
    n = 0
    for row in rows:
        n += 1
        yield row
    ExportLog.objects.filter(pk=log.pk).update(rows=F("rows") + n)


def export_cases(
    k: Any, qs: QuerySet[Any], *, user: Any, filters: dict[str, str], file_format: str
) -> StreamingHttpResponse | FileResponse:
    log = ExportLog.objects.create(user=user, what=k.code, file_format=file_format, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{k.url_prefix}-{stamp}.{file_format}"
    rows = _counted(_rows(k, qs), log)
    if file_format == "csv":
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield "\ufeff"  # so that Excel opens the UTF-8 file as UTF-8
            yield writer.writerow(_header())
            for row in rows:
                yield writer.writerow(row)

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(k.label)[:31])
    sheet.append(_header())
    for row in rows:
        sheet.append(row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
