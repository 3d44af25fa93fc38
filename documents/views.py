"""PDF credit reports and decision documents, and the public verification of a report.

Who may download what:
- a credit report PDF: exactly who may read the report (``can_view_subject_report``: a legal
  person's is public; a natural person's only for that person and staff) — anyone else gets the
  same 404 as for an unknown subject, so the PDF reveals nothing the report would not;
- a decision document PDF: anyone holding its verification code, because the public
  verification page already shows that decision to them; the PDF shows what that page shows
  (the party's name masked for a natural person), nothing more.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from commitments.models import Kind as CommitmentKind
from commitments.models import Status as CommitmentStatus
from workflow_app.api import NotFound, ServiceError
from workflow_app.registry import selectors as registry
from workflow_app.registry.api import ERROR_SCHEMA
from workflow_app.registry.identifiers import lookup_candidates, mask_name
from workflow_app.registry.models import (
    Category,
    DecisionDocument,
    Grade,
    Nature,
    Severity,
    Subject,
    SubjectKind,
)

from . import services
from .models import IssuedReport

NOT_FOUND = gettext_lazy("未找到该主体的信用信息。请核对统一社会信用代码或身份证号码后重新查询。")
CODE_NOT_FOUND = gettext_lazy("未找到该验证码对应的决定文书，请核对后重新输入。")
REPORT_NOT_FOUND = gettext_lazy("未找到该验证码对应的信用报告，请核对报告上的验证码。")
PDF = "application/pdf"


def _subject(user: Any, identifier: str) -> Subject:
    """The subject whose report ``user`` may read, or ServiceError 400 / NotFound 404."""
    try:
        lookup_candidates(identifier)
    except ValidationError as exc:
        message = exc.messages[0]
        raise ServiceError(
            message, code="invalid_identifier", errors=[{"field": "identifier", "message": message}]
        ) from exc
    subject = registry.subject_by_identifier(identifier)
    if subject is None or not registry.can_view_subject_report(user, subject):
        raise NotFound(str(NOT_FOUND), code="subject_not_found")
    return subject


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _report_context(report: IssuedReport) -> dict[str, Any]:
    content = report.content
    categories = dict(Category.choices)
    natures, severities = dict(Nature.choices), dict(Severity.choices)
    records = [
        {
            **r,
            "category_label": categories.get(r["category"], r["category"]),
            "nature_label": natures.get(r["nature"], r["nature"]),
            "severity_label": severities.get(r["severity"], ""),
        }
        for r in content["records"]
    ]
    sections = []
    for code, label in Category.choices:
        if code == Category.RISK:
            continue
        rows = [r for r in records if r["category"] == code]
        if rows:
            sections.append({"code": code, "label": label, "records": rows})
    subject = content["subject"]
    verify_url = services.report_verify_url(report)
    commitment_kinds, commitment_statuses = (
        dict(CommitmentKind.choices),
        dict(CommitmentStatus.choices),
    )
    return {
        "report": report,
        "subject": subject,
        "subject_kind_label": dict(SubjectKind.choices).get(subject["kind"], subject["kind"]),
        "grade_label": dict(Grade.choices).get(subject["grade"], subject["grade"]),
        "sections": sections,
        "risk_records": [r for r in records if r["category"] == Category.RISK],
        "record_count": len(records),
        "commitments": [
            dict(
                c,
                kind_label=commitment_kinds.get(c.get("kind"), c.get("kind")),
                status_label=commitment_statuses.get(c.get("status"), c.get("status")),
            )
            for c in content.get("commitments", [])
        ],
        "verify_url": verify_url,
        "qr": services.qr_data_uri(verify_url),
        "hash_short": report.content_hash[:16],
        "issued_at": timezone.localtime(report.issued_at),
        "css": services.margin_css(
            foot=[
                (_("出具时间"), "issued-at"),
                (_("验证码"), "code"),
                (_("内容散列"), "hash-short"),
            ]
        ),
    }


def _issue_report_pdf(user: Any, identifier: str) -> HttpResponse:
    subject = _subject(user, identifier)
    report = services.report_issue(subject=subject, viewer=user)
    pdf = services.render_pdf("documents/report_pdf.html", _report_context(report))
    return _pdf_response(pdf, f"credit-report-{report.code}.pdf")


def _decision(code: str) -> DecisionDocument:
    document = registry.decision_by_code(code)
    if document is None:
        raise NotFound(str(CODE_NOT_FOUND), code="code_not_found")
    return document


def _decision_pdf(document: DecisionDocument) -> HttpResponse:
    verify_url = services.absolute_url(reverse("verify-detail", args=[document.code]))
    context = {
        "document": document,
        "subject_name": registry.decision_public_name(document),
        "decision_label": registry.decision_label(document.decision),
        "summary": registry.decision_summary(document),
        "in_force": document.status == DecisionDocument.Status.IN_FORCE,
        "verify_url": verify_url,
        "qr": services.qr_data_uri(verify_url),
        "printed_at": timezone.localtime(),
        "css": services.margin_css(foot=[(_("验证码"), "code")]),
    }
    pdf = services.render_pdf("documents/decision_pdf.html", context)
    return _pdf_response(pdf, f"decision-{document.code}.pdf")


# --- pages --------------------------------------------------------------------------------------


def report_pdf(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        return _issue_report_pdf(request.user, identifier)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except ServiceError as exc:
        return render(
            request,
            "registry/report_search.html",
            {"error_message": exc.message},
            status=400,
        )


def decision_pdf(request: HttpRequest, code: str) -> HttpResponse:
    try:
        return _decision_pdf(_decision(code))
    except NotFound as exc:
        raise Http404(exc.message) from None


def verify_report(request: HttpRequest, code: str) -> HttpResponse:
    """Confirm a report: found by its code, and — when the hash printed on it is given (the QR
    code carries it) — whether that hash is the one recorded when it was issued."""
    normalised = registry.normalise_code(code)
    report = (
        IssuedReport.objects.select_related("subject").filter(code=normalised).first()
        if normalised
        else None
    )
    if report is None:
        return render(
            request, "documents/verify_report.html", {"error_message": REPORT_NOT_FOUND}, status=404
        )
    given = (request.GET.get("hash") or "").strip().lower()[:128]
    counts: dict[str, int] = {}
    for r in report.content.get("records", []):
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    categories = dict(Category.choices)
    subject = report.content["subject"]
    name = subject["name"]
    if subject["kind"] == SubjectKind.NATURAL_PERSON:
        name = mask_name(name)
    return render(
        request,
        "documents/verify_report.html",
        {
            "report": report,
            "subject_name": name,
            "subject": subject,
            "grade_label": dict(Grade.choices).get(subject["grade"], subject["grade"]),
            "counts": [(categories.get(k, k), n) for k, n in counts.items()],
            "given": given,
            "matches": bool(given) and given == report.content_hash,
        },
    )


# --- API ----------------------------------------------------------------------------------------

PDF_RESPONSE = OpenApiResponse(response=OpenApiTypes.BINARY, description="PDF document")
ERROR_400 = OpenApiResponse(
    response=ERROR_SCHEMA,
    description="Not a valid 统一社会信用代码 or resident ID (the registry's message)",
)
ERROR_404 = OpenApiResponse(
    response=ERROR_SCHEMA,
    description="Unknown, or not visible to the caller (the same answer in both cases)",
)


class _PdfView(APIView):
    """Answers a PDF, or a JSON error whatever the ``Accept`` header asked for."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class SubjectReportPDF(_PdfView):
    @extend_schema(
        tags=["registry"],
        operation_id="subject_report_pdf",
        summary="信用报告（PDF），附验证码和二维码",
        description=(
            "The credit report as a printable PDF, recorded as issued (verification code, SHA-256 "
            "of its content, QR code to the public verification page). The same visibility as "
            "the JSON report: a legal person's is public, a natural person's only for that person "
            "and staff; anyone else gets the 404 of an unknown subject."
        ),
        parameters=[
            OpenApiParameter(
                "identifier",
                str,
                OpenApiParameter.PATH,
                description="统一社会信用代码（法人）或身份证号码（自然人，仅本人和工作人员可查）",
            )
        ],
        responses={(200, PDF): PDF_RESPONSE, 400: ERROR_400, 404: ERROR_404},
    )
    def get(self, request: Request, identifier: str) -> HttpResponse:
        return _issue_report_pdf(request.user, identifier)


class DecisionPDF(_PdfView):
    @extend_schema(
        tags=["registry"],
        operation_id="decision_pdf",
        summary="决定文书（PDF）",
        description=(
            "A decision document (objection result, repair decision or its revocation, breach "
            "decision) as a printable PDF, for anyone holding its verification code: it shows "
            "what the public verification page shows (a natural person's name masked)."
        ),
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, description="验证码")],
        responses={(200, PDF): PDF_RESPONSE, 404: ERROR_404},
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        return _decision_pdf(_decision(code))
