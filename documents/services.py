"""Issuing a credit report: snapshot, hash, verification code — and rendering PDFs.

The snapshot holds codes and values only (category ``penalty``, not 行政处罚), so its hash is the
same whichever language the PDF was read in; labels are applied when the PDF or the verification
page is rendered. The hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from workflow_app.registry import selectors as registry
from workflow_app.registry.models import Subject
from workflow_app.registry.services import verification_code_new

from .models import IssuedReport

COMMITMENT_FIELDS = ("reference", "kind", "matter_title", "department", "signed_date", "status")


def canonical_hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_snapshot(subject: Subject, viewer: Any) -> dict[str, Any]:
    """What the report shows this viewer now (the same rules as the report page and API).

    Of the sections other workflows add to the report only the public commitments belong in a
    printed credit report; staff-only sections (the credit checks made on the subject) are
    working information, not part of the report a subject hands to a third party."""
    data = registry.report_as_dict(subject, viewer)
    return {
        "subject": data["subject"],
        "records": data["records"],
        "commitments": [
            {key: item.get(key) for key in COMMITMENT_FIELDS}
            for item in data.get("commitments", [])
        ],
    }


def report_issue(*, subject: Subject, viewer: Any) -> IssuedReport:
    """Record an issued report (its snapshot, hash and a fresh verification code)."""
    with transaction.atomic():
        for _attempt in range(5):
            code = verification_code_new()
            if not IssuedReport.objects.filter(code=code).exists():
                break
        issued_at = timezone.now()
        content = report_snapshot(subject, viewer)
        content["code"] = code
        content["issued_at"] = issued_at.isoformat()
        report = IssuedReport(
            code=code,
            subject=subject,
            issued_at=issued_at,
            issued_to=viewer if getattr(viewer, "is_authenticated", False) else None,
            content=content,
            content_hash=canonical_hash(content),
        )
        report._change_reason = "issued as PDF"  # type: ignore[attr-defined]
        report._history_user = report.issued_to  # type: ignore[attr-defined]
        report.save()
        return report


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def report_verify_url(report: IssuedReport) -> str:
    path = reverse("verify-report", args=[report.code])
    return absolute_url(f"{path}?hash={report.content_hash}")


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (drawn locally: no network)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=3, border=1))


def css_text(text: str) -> str:
    """``text`` as a CSS string literal (for the ``content`` of a page margin box)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def page_numbers_css() -> str:
    """The CSS ``content`` of the page-number margin box, "第 x 页 共 y 页" in the reader's
    language: one translatable message whose placeholders become CSS counters."""
    message = _("第 {page} 页 共 {pages} 页")
    parts = re.split(r"(\{page\}|\{pages\})", message)
    counters = {"{page}": "counter(page)", "{pages}": "counter(pages)"}
    return " ".join(counters.get(part) or css_text(part) for part in parts if part)


def margin_css(*, foot: list[tuple[str, str]]) -> dict[str, SafeString]:
    """The ``content`` of the margin boxes: the platform's name, a footer of (label, string
    name) pairs — the strings are set from the document's own elements (``string-set``), so no
    text from the database is ever written into the style sheet — and the page numbers."""
    foot_parts = []
    for index, (label, string_name) in enumerate(foot):
        foot_parts.append(css_text(("  ·  " if index else "") + label + " "))
        foot_parts.append(f"string({string_name})")
    return {
        "platform": mark_safe(css_text(_("公共信用信息平台"))),  # noqa: S308 - escaped above
        "foot": mark_safe(" ".join(foot_parts)),  # noqa: S308
        "page_numbers": mark_safe(page_numbers_css()),  # noqa: S308
    }


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, context)
    # a document loads nothing from anywhere: only inline data URIs (the QR code) are read
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=2)
    return bytes(HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf())
