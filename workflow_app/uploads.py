"""Validation of evidence uploads, shared by every workflow.

The type is decided by the file's content (magic bytes), never by its name or the browser's
content type; size and count are limited by settings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from workflow_app.api import ServiceError

ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}


@dataclass
class CheckedFile:
    upload: Any
    name: str
    content_type: str
    size: int
    sha256: str


def _human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def check_evidence_files(files: list[UploadedFile]) -> list[CheckedFile]:
    """Return the checked files or raise ServiceError listing every problem (nothing stored)."""
    errors: list[dict[str, str]] = []
    max_files = settings.EVIDENCE_MAX_FILES
    max_bytes = settings.EVIDENCE_MAX_BYTES
    if len(files) > max_files:
        raise ServiceError(
            _("一次最多上传 %(n)d 个文件，您选择了 %(got)d 个。")
            % {"n": max_files, "got": len(files)},
            code="too_many_files",
        )
    checked: list[CheckedFile] = []
    for upload in files:
        name = (getattr(upload, "name", "") or "file").split("/")[-1].split("\\")[-1]
        size = upload.size or 0
        if size == 0:
            errors.append(
                {
                    "field": "evidence",
                    "file": name,
                    "message": _("文件“%(name)s”是空文件。") % {"name": name},
                }
            )
            continue
        if size > max_bytes:
            errors.append(
                {
                    "field": "evidence",
                    "file": name,
                    "message": _(
                        "文件“%(name)s”大小为 %(size)s，超过 %(max)s 的上限，请压缩后重新上传。"
                    )
                    % {"name": name, "size": _human_size(size), "max": _human_size(max_bytes)},
                }
            )
            continue
        upload.seek(0)
        head = upload.read(8192)
        kind = filetype.guess(head)
        mime = kind.mime if kind else ""
        if mime not in ALLOWED_TYPES:
            errors.append(
                {
                    "field": "evidence",
                    "file": name,
                    "message": _(
                        "文件“%(name)s”不是 PDF、JPG 或 PNG 文件（按文件内容判断），请转换格式后重新上传。"
                    )
                    % {"name": name},
                }
            )
            continue
        digest = hashlib.sha256(head)
        while chunk := upload.read(65536):
            digest.update(chunk)
        upload.seek(0)
        checked.append(CheckedFile(upload, name, mime, size, digest.hexdigest()))
    if errors:
        raise ServiceError(
            "; ".join(e["message"] for e in errors), code="invalid_evidence", errors=errors
        )
    return checked
