"""Bad input is refused with a message, never a 500, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from repair.models import Repair
from tests.factories import CreditRecordFactory
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
