"""Issuing a credit report: snapshot, hash, verification code — and rendering PDFs.

The snapshot holds codes and values only (category ``penalty``, not 行政处罚), so its hash is the
same whichever language the PDF was read in; labels are applied when the PDF or the verification
page is rendered. The hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from workflow_app.cases.hooks import report_sections
from workflow_app.registry import selectors as registry
from workflow_app.registry.models import Subject
from workflow_app.registry.services import verification_code_new

from .models import IssuedReport

COMMITMENT_FIELDS = ("reference", "kind", "matter_title", "department", "signed_date", "status")


def canonical_hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_snapshot(subject: Subject, viewer: Any) -> dict[str, Any]:
    """What the report shows this viewer now (the same rules as the report page and API)."""
    data = registry.report_as_dict(subject, viewer)
    commitments = [
        {key: item.get(key) for key in COMMITMENT_FIELDS}
        for section in report_sections(subject, viewer)
        if section["key"] == "commitments"
        for item in section["items"]
    ]
    return {
        "subject": data["subject"],
        "records": data["records"],
        "commitments": commitments,
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


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, context)
    # a document loads nothing from anywhere: only inline data URIs (the QR code) are read
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=2)
    return bytes(HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf())
