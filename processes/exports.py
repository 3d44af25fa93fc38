"""Exports of a filtered case list or of a queue to CSV (streamed row by row from a server-side cursor, so a
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

from workflow_app.rows import minute_texts

from .models import ExportLog

CHUNK = 2000


def _header() -> list[str]:
    return [_("编号"), _("状态"), _("主体名称"), _("主体代码"), _("所涉部门"), _("提交时间")]


def _rows(k: Any, qs: QuerySet[Any]) -> Iterator[list[str]]:
    labels = {code: str(label) for code, label in k.status_labels().items()}
    minute = minute_texts()
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
            minute(filed),
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
    return export_rows(
        what=k.code,
        title=str(k.label),
        file_stem=k.url_prefix,
        header=_header(),
        rows=_rows(k, qs),
        user=user,
        filters=filters,
        file_format=file_format,
    )


def _queue_rows(qs: QuerySet[Any]) -> Iterator[list[str]]:
    from .registry import all_steps
    from .services import queue_label

    steps = all_steps()
    minute = minute_texts()
    queues: dict[str, str] = {}
    fields = (
        "case_reference",
        "step",
        "queue",
        "subject_name",
        "record_title",
        "department__code",
        "owner__username",
        "due_at",
    )
    for ref, step, queue, subject, record, dept, owner, due in qs.values_list(*fields).iterator(
        chunk_size=CHUNK
    ):
        if queue not in queues:
            queues[queue] = queue_label(queue)
        yield [
            ref,
            str(steps.get(step, step)),
            queues[queue],
            subject,
            record,
            dept or "",
            owner or "",
            minute(due),
        ]


def export_queue(
    qs: QuerySet[Any], *, user: Any, filters: dict[str, str], file_format: str
) -> StreamingHttpResponse | FileResponse:
    header = [
        _("编号"),
        _("环节"),
        _("办理组"),
        _("主体名称"),
        _("所涉信息"),
        _("所涉部门"),
        _("办理人"),
        _("截止时间"),
    ]
    return export_rows(
        what="queue",
        title=_("任务队列"),
        file_stem="queue",
        header=header,
        rows=_queue_rows(qs),
        user=user,
        filters=filters,
        file_format=file_format,
    )


def export_rows(
    *,
    what: str,
    title: str,
    file_stem: str,
    header: list[str],
    rows: Iterator[list[str]],
    user: Any,
    filters: dict[str, str],
    file_format: str,
) -> StreamingHttpResponse | FileResponse:
    log = ExportLog.objects.create(user=user, what=what, file_format=file_format, filters=filters)
    name = f"{file_stem}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{file_format}"
    counted = _counted(rows, log)
    if file_format == "csv":
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield "\ufeff"  # so that Excel opens the UTF-8 file as UTF-8
            yield writer.writerow(header)
            for row in counted:
                yield writer.writerow(row)

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in counted:
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
