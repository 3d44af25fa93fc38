"""One evidence mechanism for every case kind (objections, repairs, commitments).

- Files are checked by content, size and count (:func:`workflow_app.uploads.check_evidence_files`)
  before anything is stored; a refusal stores nothing.
- The row is written in the caller's transaction; the bytes are written to storage only after
  that transaction commits (``transaction.on_commit``). A rolled-back filing leaves no file.
- Should a process die between the commit and the write, the row points at a missing file: the
  download answers 404 with a message instead of failing. Files that no row names (a crash
  between a write and a rollback in older versions, or manual copies) are removed by
  :func:`evidence_remove_orphans` once they are a day old (``run_sweeps``).

A domain app declares ``class Evidence(EvidenceBase)`` with a foreign key to its case and sets
``CASE_FIELD`` to that key's name.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow_app.uploads import ALLOWED_TYPES, CheckedFile
from workflow_app.writes import save_with_history

EVIDENCE_ROOT = "evidence"
_SAFE = re.compile(r"[^0-9A-Za-z._\-\u4e00-\u9fff]+")


class EvidenceBase(models.Model):
    class Stage(models.TextChoices):
        FILING = "filing", _("申请时提交")
        SUPPLEMENT = "supplement", _("补正材料")
        FULFILMENT = "fulfilment", _("履约材料")

    CASE_FIELD = "case"

    file = models.FileField(_("文件"), max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=50)
    size = models.PositiveIntegerField(_("文件大小（字节）"))
    sha256 = models.CharField("SHA-256", max_length=64)
    stage = models.CharField(
        _("提交阶段"), max_length=20, choices=Stage.choices, default=Stage.FILING
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def stored(self) -> bool:
        name = self.file.name
        return bool(name) and default_storage.exists(str(name))


def _storage_name(case: Any, item: CheckedFile) -> str:
    """Our own name: a safe stem of the uploaded name and the extension of the type the content
    was found to be (whatever the name claimed)."""
    base = _SAFE.sub("_", os.path.splitext(item.name)[0])[-60:] or "file"
    ext = ALLOWED_TYPES[item.content_type]
    return f"{EVIDENCE_ROOT}/{case.CASE_KIND}/{case.pk}/{item.sha256[:16]}-{base}.{ext}"


def _spool(upload: Any) -> Any:
    """A private copy of the upload's bytes (memory up to 1 MB, then a temporary file): the
    request's upload may be closed by the time the transaction commits."""
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - closed by _write
    upload.seek(0)
    for chunk in iter(lambda: upload.read(65536), b""):
        spool.write(chunk)
    spool.seek(0)
    return spool


def _write(model: type[EvidenceBase], pk: int, name: str, spool: Any) -> None:
    try:
        saved = default_storage.save(name, File(spool, name=name))
        if saved != name:  # the same file twice in one case: storage picked another name
            model._default_manager.filter(pk=pk).update(file=saved)
    finally:
        spool.close()


def evidence_store(
    *,
    model: type[EvidenceBase],
    case: Any,
    files: Sequence[CheckedFile],
    by: Any,
    stage: str = EvidenceBase.Stage.FILING,
) -> list[EvidenceBase]:
    """Write evidence rows for checked files in the caller's transaction; the bytes follow after
    the commit."""
    rows = []
    for item in files:
        row = model(
            **{model.CASE_FIELD: case},
            original_name=item.name[:255],
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            stage=stage,
            uploaded_by=by,
        )
        row.file.name = _storage_name(case, item)
        row._history_user = by  # type: ignore[attr-defined]
        save_with_history(row)  # the row and its history row: one statement on PostgreSQL
        transaction.on_commit(partial(_write, model, row.pk, row.file.name, _spool(item.upload)))
        rows.append(row)
    return rows


def evidence_models() -> list[type[EvidenceBase]]:
    return [m for m in apps.get_models() if issubclass(m, EvidenceBase)]


def _walk(path: str) -> Iterable[str]:
    dirs, files = default_storage.listdir(path)
    for f in files:
        yield f"{path}/{f}"
    for d in dirs:
        yield from _walk(f"{path}/{d}")


def evidence_remove_orphans(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete stored evidence files that no evidence row names and that are older than a day.
    Returns how many were removed."""
    if older_than is None:
        older_than = datetime.timedelta(days=1)
    try:
        names = list(_walk(EVIDENCE_ROOT))
    except (FileNotFoundError, NotImplementedError):
        return 0
    if not names:
        return 0
    known: set[str] = set()
    for model in evidence_models():
        known.update(model._default_manager.filter(file__in=names).values_list("file", flat=True))
    cutoff = timezone.now() - older_than
    removed = 0
    for name in names:
        if name in known:
            continue
        try:
            modified = default_storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if timezone.is_naive(modified):
            modified = timezone.make_aware(modified)
        if modified < cutoff:
            default_storage.delete(name)
            removed += 1
    return removed


def evidence_add_to_open_case(
    *, model: type[Any], evidence: type[EvidenceBase], case_id: int, by: Any, files: Sequence[Any]
) -> list[EvidenceBase]:
    """The owner adds materials to an open case of any kind (no change of state); the addition is
    on the case's timeline."""
    from django.utils.translation import gettext as _t

    from workflow_app.api import Conflict, NotFound, ServiceError
    from workflow_app.uploads import check_evidence_files

    from .transitions import audit_case, lock_case

    checked = check_evidence_files(list(files)) if files else []
    if not checked:
        raise ServiceError(_t("请选择要上传的材料。"), code="evidence_empty")
    with transaction.atomic():
        case = lock_case(model, case_id)
        if case.applicant_id != getattr(by, "pk", None):
            raise NotFound(_t("未找到该案件。"))
        if not case.is_open:
            raise Conflict(_t("案件已办结，不能再补充材料。"), code="wrong_state")
        rows = evidence_store(
            model=evidence, case=case, files=checked, by=by, stage=EvidenceBase.Stage.SUPPLEMENT
        )
        audit_case(
            case,
            before=case.status,
            by=by,
            msg="case.evidence_added",
            event="note",
            params={"files": len(rows)},
            data={"files": [c.name for c in checked]},
        )
        return rows
