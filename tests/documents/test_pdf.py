"""PDF credit reports and decision documents: the text a reader (pdftotext) gets out of them, who
may download them, and the public verification of a report's hash."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from documents.models import IssuedReport
from tests.conftest import as_user, skip_or_fail
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory
from workflow_app.registry import services as registry
from workflow_app.registry.services import subject_get_or_create

pytestmark = pytest.mark.django_db

RESIDENT_ID = "11010519491231002X"


def pdftotext(content: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (Debian poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.fixture
def company_records(company, samr, emb):
    day = datetime.date(2026, 3, 2)
    return {
        "penalty": CreditRecordFactory(
            subject=company,
            department=samr,
            category="penalty",
            title="未按规定公示年度报告行政处罚",
            decision_date=day,
        ),
        "objected": CreditRecordFactory(
            subject=company,
            department=emb,
            category="supervision",
            nature="neutral",
            severity="",
            title="安全生产重点监管对象",
            decision_date=day,
            under_objection=True,
        ),
        "licence": CreditRecordFactory(
            subject=company,
            department=samr,
            category="licence",
            nature="neutral",
            severity="",
            title="食品经营许可证",
            decision_date=day,
        ),
        "risk": CreditRecordFactory(
            subject=company,
            department=samr,
            category="risk",
            nature="neutral",
            severity="",
            title="经营异常风险提示",
            decision_date=day,
        ),
    }


def test_company_report_pdf_shows_subject_records_marks_and_code(
    company, company_records, tmp_path
):
    response = APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    report = IssuedReport.objects.get()
    assert (
        response["Content-Disposition"] == f'attachment; filename="credit-report-{report.code}.pdf"'
    )
    text = pdftotext(response.content, tmp_path)
    flat = "".join(text.split())
    assert "信用报告" in flat
    assert company.name in flat and company.identifier_display in flat
    for record in company_records.values():
        assert record.title in flat
    assert "【异议处理中】" in flat
    assert "风险信息（仅供参考）" in flat and "不作为认定失信行为或实施失信惩戒的依据" in flat
    # the risk record is in its own section, after the notice
    assert flat.index("经营异常风险提示") > flat.index("风险信息（仅供参考）")
    assert report.code in flat and report.content_hash in flat


def test_verification_page_confirms_the_hash_and_rejects_a_changed_one(
    company, company_records, client
):
    APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    report = IssuedReport.objects.get()
    ok = client.get(f"/verify/report/{report.code}/", {"hash": report.content_hash})
    assert ok.status_code == 200
    assert "内容与出具时存档一致" in ok.content.decode()
    changed = report.content_hash[:-1] + ("0" if report.content_hash[-1] != "0" else "1")
    bad = client.get(f"/verify/report/{report.code}/", {"hash": changed})
    assert "内容与存档不一致，该报告可能被篡改" in bad.content.decode()
    assert client.get("/verify/report/ABCD-EFGH-JKMN-PQRS/").status_code == 404


def test_the_qr_code_url_is_the_verification_page_with_the_hash(company, company_records, client):
    from documents.services import report_verify_url

    APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    report = IssuedReport.objects.get()
    url = urlparse(report_verify_url(report))
    assert url.path == f"/verify/report/{report.code}/"
    assert parse_qs(url.query)["hash"] == [report.content_hash]
    page = client.get(url.path, parse_qs(url.query))
    assert "内容与出具时存档一致" in page.content.decode()


def test_the_hash_covers_the_content_not_the_language(company, company_records, tmp_path):
    from documents.services import canonical_hash

    english = APIClient()
    english.cookies["django_language"] = "en"
    en_pdf = english.get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    zh_pdf = APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    assert "Creditreport" in "".join(pdftotext(en_pdf.content, tmp_path).split())
    assert "信用报告" in "".join(pdftotext(zh_pdf.content, tmp_path).split())
    en, zh = IssuedReport.objects.order_by("issued_at", "pk")
    for report in (en, zh):
        assert canonical_hash(report.content) == report.content_hash

    def without_issue(content):
        return {k: v for k, v in content.items() if k not in ("code", "issued_at")}

    # the same content whichever language it was read in: codes, not labels
    assert without_issue(en.content) == without_issue(zh.content)
    assert {r["category"] for r in en.content["records"]} >= {"penalty", "risk"}
    tampered = dict(en.content, records=en.content["records"][1:])
    assert canonical_hash(tampered) != en.content_hash


def test_natural_persons_pdf_only_for_that_person(db, samr, centre_user, tmp_path):
    person = subject_get_or_create(kind="natural_person", identifier=RESIDENT_ID, name="张三丰")
    CreditRecordFactory(subject=person, department=samr, title="个人失信记录")
    owner = UserFactory(username="zhangsan", role="applicant", subject=person)
    other = UserFactory(username="lisi", role="applicant", subject=SubjectFactory())
    url = f"/api/v1/subjects/{person.identifier}/report.pdf"
    unknown = APIClient().get("/api/v1/subjects/110105194912310038/report.pdf")
    assert unknown.status_code == 404

    # another applicant and anonymous callers get exactly the answer for an unknown subject
    for caller in (None, other):
        client = as_user(APIClient(), caller) if caller else APIClient()
        answer = client.get(url)
        assert answer.status_code == 404
        assert answer.json() == unknown.json()
    assert not IssuedReport.objects.exists()

    # the PDF follows the JSON report's rule for every caller (staff may read it there, too)
    for caller in (None, other, owner, centre_user):
        client = as_user(APIClient(), caller) if caller else APIClient()
        json_status = client.get(f"/api/v1/subjects/{person.identifier}/report/").status_code
        assert client.get(url).status_code == json_status
    assert as_user(APIClient(), centre_user).get(url).status_code == 200

    mine = as_user(APIClient(), owner).get(url)
    assert mine.status_code == 200 and mine["Content-Type"] == "application/pdf"
    flat = "".join(pdftotext(mine.content, tmp_path).split())
    assert "张三丰" in flat and "个人失信记录" in flat
    assert person.identifier_display in flat and RESIDENT_ID not in flat  # the ID is masked
    assert IssuedReport.objects.filter(subject=person, issued_to=owner).exists()

    # the page route follows the same rule
    for caller in (None, other):
        page_client = APIClient()
        if caller:
            page_client.force_login(caller)
        assert page_client.get(f"/report/{person.identifier}/report.pdf").status_code == 404
    page_client = APIClient()
    page_client.force_login(owner)
    assert page_client.get(f"/report/{person.identifier}/report.pdf").status_code == 200

    # the public verification page names the person as the public may see them
    report = IssuedReport.objects.filter(subject=person).first()
    page = APIClient().get(f"/verify/report/{report.code}/").content.decode()
    assert "张**" in page and "张三丰" not in page and RESIDENT_ID not in page


def test_bad_identifier_is_400_with_the_registry_message(db):
    r = APIClient().get("/api/v1/subjects/12345/report.pdf", HTTP_ACCEPT="application/pdf")
    assert r.status_code == 400
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "invalid_identifier"
    registry_answer = APIClient().get("/api/v1/subjects/12345/report/")
    assert r.json()["message"] == registry_answer.json()["message"]
    page = APIClient().get("/report/12345/report.pdf")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert not IssuedReport.objects.exists()


def test_report_page_links_the_pdf(company, company_records, client):
    html = client.get(f"/report/{company.identifier}/").content.decode()
    assert f"/report/{company.identifier}/report.pdf" in html
    pdf = client.get(f"/report/{company.identifier}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def _decision(company, record, **kw):
    return registry.decision_issue(
        case_kind="objection",
        case_id=1,
        case_reference="YY20260000001",
        subject=company,
        record=record,
        title="异议处理决定书",
        decision="confirmed",
        issued_by="市公共信用中心",
        summary="经核查，异议成立，已更正该信息。",
        **kw,
    )


def test_decision_pdf_in_force(company, company_records, client, tmp_path):
    document = _decision(company, company_records["penalty"])
    r = client.get(f"/verify/{document.code}/")
    assert f"/verify/{document.code}/document.pdf" in r.content.decode()
    pdf = APIClient().get(f"/api/v1/decisions/{document.code}/document.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="decision-{document.code}.pdf"'
    flat = "".join(pdftotext(pdf.content, tmp_path).split())
    for text in (
        "异议处理决定书",
        document.code,
        "YY20260000001",
        company.name,
        "本决定文书现行有效",
    ):
        assert text in flat


def test_revoked_repair_decision_pdf_says_so(company, company_records, tmp_path):
    document = registry.decision_issue(
        case_kind="repair",
        case_id=2,
        case_reference="XF20260000002",
        subject=company,
        record=company_records["penalty"],
        title="信用修复决定书",
        decision="approved",
        issued_by="市场监督管理局",
        summary="准予修复。",
    )
    registry.decision_revoke(document=document, reason="申请材料虚假", by=None)
    pdf = APIClient().get(f"/verify/{document.code}/document.pdf")
    flat = "".join(pdftotext(pdf.content, tmp_path).split())
    document.refresh_from_db()
    revoked_at = timezone.localtime(document.revoked_at).strftime("%Y-%m-%d%H:%M")
    assert "信用修复决定书" in flat and "申请材料虚假" in flat
    assert f"本决定已于{revoked_at}撤销，不再有效" in flat and "已撤销" in flat
    assert "本决定文书现行有效" not in flat
    assert APIClient().get("/api/v1/decisions/NOPE-NOPE/document.pdf").status_code == 404


def test_public_commitments_are_in_the_report(applicant, company, samr, tmp_path):
    from tests.processes.helpers import sign_commitment

    signed = sign_commitment(applicant)
    pdf = APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    flat = "".join(pdftotext(pdf.content, tmp_path).split())
    assert signed["reference"] in flat and "食品经营许可（告知承诺）" in flat
    assert "告知承诺" in flat and "履约中" in flat


def test_footer_has_issuing_time_code_short_hash_and_page_numbers(
    company, company_records, tmp_path
):
    pdf = APIClient().get(f"/api/v1/subjects/{company.identifier}/report.pdf")
    report = IssuedReport.objects.get()
    text = pdftotext(pdf.content, tmp_path)
    pages = text.count("\f") or 1
    flat = "".join(text.split())
    issued = timezone.localtime(report.issued_at).strftime("%Y-%m-%d%H:%M")
    assert f"出具时间{issued}·验证码{report.code}·内容散列{report.content_hash[:16]}" in flat
    assert f"第1页共{pages}页" in flat


def test_a_natural_persons_decision_pdf_masks_the_name(db, samr, tmp_path):
    person = subject_get_or_create(kind="natural_person", identifier=RESIDENT_ID, name="张三丰")
    record = CreditRecordFactory(subject=person, department=samr, title="个人失信记录")
    document = _decision(person, record)
    pdf = APIClient().get(f"/verify/{document.code}/document.pdf")
    assert pdf.status_code == 200
    flat = "".join(pdftotext(pdf.content, tmp_path).split())
    assert "张**" in flat and "张三丰" not in flat
    assert APIClient().get("/verify/NOPE/document.pdf").status_code == 404


def test_rendering_fetches_nothing_from_the_network(monkeypatch):
    """Only data: URIs are read; an external image or style sheet in the HTML is not fetched."""
    import urllib.request

    from documents import services

    fetched = []
    monkeypatch.setattr(
        urllib.request.OpenerDirector, "open", lambda self, *a, **k: fetched.append(a)
    )
    monkeypatch.setattr(
        services,
        "render_to_string",
        lambda *a, **k: (
            '<link rel="stylesheet" href="http://example.invalid/a.css">'
            '<img src="http://example.invalid/a.png"><img src="file:///etc/passwd"><p>x</p>'
        ),
    )
    assert services.render_pdf("any.html", {}).startswith(b"%PDF")
    assert fetched == []
