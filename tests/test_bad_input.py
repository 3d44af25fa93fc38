"""Bad input is refused with a message, never a 500, and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repair.models import Repair
from tests.factories import CreditRecordFactory
from tests.processes.helpers import PDF_BYTES as PDF
from tests.processes.helpers import client_for

pytestmark = pytest.mark.django_db


def _post_raw(user, path, raw: bytes):
    return client_for(user).generic("POST", path, raw, content_type="application/json")


def test_nul_and_lone_surrogates_are_refused(applicant, company, samr):
    record = CreditRecordFactory(subject=company, department=samr)
    body = {
        "record": record.pk,
        "correction_statement": "已缴清\u0000",
        "commitment_accepted": True,
    }
    r = _post_raw(applicant, "/api/v1/repairs/", json.dumps(body).encode())
    assert r.status_code == 400 and r.json()["code"] == "invalid_characters"
    r = _post_raw(applicant, "/api/v1/repairs/", b'{"correction_statement": "\\ud800"}')
    assert r.status_code == 400
    r = client_for(applicant).get("/api/v1/tasks/?step=a%00b")
    assert r.status_code == 400
    assert not Repair.objects.exists()


def test_json_nested_too_deep_is_a_400(applicant):
    deep = b"[" * 10000 + b"]" * 10000
    r = _post_raw(applicant, "/api/v1/objections/", deep)
    assert r.status_code == 400 and r.json()["message"]


def test_oversized_body_is_a_413(applicant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"description": "x" * 5000}).encode()
    r = _post_raw(applicant, "/api/v1/objections/", body)
    assert r.status_code in (400, 413) and r.status_code != 500


def _repair_upload(applicant, record, files):
    body = {
        "record": record.pk,
        "correction_statement": "罚款已缴清。",
        "commitment_text": "本单位承诺不再发生同类失信行为。",
        "commitment_accepted": "true",
        "evidence": files,
    }
    return client_for(applicant).post("/api/v1/repairs/", body, format="multipart")


def _named(data: bytes, name: str):
    import io

    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("proof." + "x" * 78, PDF, "extension of 78 characters"),
        ("proof.exe", b"MZ\x90\x00" + b"\x00" * 60, "wrong type"),
        ("proof.pdf", b"MZ\x90\x00" + b"\x00" * 60, "a program named .pdf"),
        ("../../etc/passwd.pdf", PDF, "a path in the name"),
    ],
)
def test_bad_uploads_are_refused_with_a_message_and_store_nothing(
    applicant, company, samr, settings, name, data, why
):
    record = CreditRecordFactory(subject=company, department=samr)
    r = _repair_upload(applicant, record, [_named(data, name)])
    if r.status_code == 201:
        # the type is decided by the content: a PDF with an odd name is a PDF, stored under a
        # name of ours; a path in a name is reduced to its base name, never followed
        assert why in ("extension of 78 characters", "a path in the name")
        stored = Repair.objects.get().evidence.get()
        assert stored.content_type == "application/pdf" and stored.file.name.endswith(".pdf")
        assert "/" not in stored.original_name and ".." not in stored.original_name
        return
    assert r.status_code == 400, (why, r.content)
    assert r.json()["message"]
    assert not Repair.objects.exists()
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


def test_too_big_and_too_many_uploads_are_refused(applicant, company, samr, settings):
    record = CreditRecordFactory(subject=company, department=samr)
    settings.EVIDENCE_MAX_BYTES = 2048
    r = _repair_upload(applicant, record, [_named(PDF + b"0" * 4096, "big.pdf")])
    assert r.status_code in (400, 413) and "big.pdf" in r.content.decode()
    settings.EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    many = [_named(PDF, f"p{i}.pdf") for i in range(settings.EVIDENCE_MAX_FILES + 1)]
    r = _repair_upload(applicant, record, many)
    assert r.status_code == 400 and r.json()["message"]
    assert not Repair.objects.exists()


def test_oversized_multipart_text_field_is_refused(applicant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = client_for(applicant).post(
        "/api/v1/repairs/", {"correction_statement": "x" * 5000}, format="multipart"
    )
    assert r.status_code in (400, 413) and r.json()["message"]


def test_nul_in_record_import_and_queue_filters_is_refused(dept_samr, samr, company, centre_user):
    from workflow_app.registry.models import CreditRecord

    item = {
        "external_id": "EXT-\u0000-1",
        "subject_identifier": company.identifier,
        "subject_name": company.name,
        "category": "penalty",
        "nature": "dishonesty",
        "severity": "general",
        "title": "行政处罚\u0000",
        "content": "x",
        "decision_date": "2026-01-05",
    }
    before = CreditRecord.objects.count()
    r = _post_raw(dept_samr, "/api/v1/records/", json.dumps({"records": [item]}).encode())
    assert r.status_code == 400 and CreditRecord.objects.count() == before
    for param in ("department", "kind", "step"):
        r = client_for(centre_user).get(f"/api/v1/tasks/?{param}=x%00y")
        assert r.status_code == 400 and r.json()["code"] == "invalid_characters"


def test_nul_in_a_multipart_field_is_refused(applicant, company, samr):
    record = CreditRecordFactory(subject=company, department=samr)
    body = {
        "record": record.pk,
        "correction_statement": "已缴清\x00",
        "commitment_text": "承诺",
        "commitment_accepted": "true",
        "evidence": [_named(PDF, "p.pdf")],
    }
    r = client_for(applicant).post("/api/v1/repairs/", body, format="multipart")
    assert r.status_code == 400 and r.json()["message"]
    assert not Repair.objects.exists()


def test_too_many_fields_or_files_is_a_400_not_a_500(applicant, centre_user):
    body = "&".join(f"tasks={i}" for i in range(1001))
    r = client_for(centre_user).generic(
        "POST", "/api/v1/tasks/assign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 400 and "过多" in r.json()["message"]
    many = {"evidence": [_named(PDF, f"p{i}.pdf") for i in range(101)], "record": "1"}
    r = client_for(applicant).post("/api/v1/objections/", many, format="multipart")
    assert r.status_code == 400 and r.json()["message"]


def test_a_body_of_an_unknown_type_is_a_documented_415(applicant, client):
    r = client.generic("POST", "/api/v1/auth/token/", "x", content_type="text/plain")
    assert r.status_code == 415 and r.json()["message"]
    schema = client.get("/api/schema/?format=json").json()
    assert "415" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
