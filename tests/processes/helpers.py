"""Helpers for HTTP workflow tests: act as a user through the API."""

from __future__ import annotations

import io
from typing import Any

from rest_framework.test import APIClient

from processes.models import CaseTask
from processes.registry import kinds

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = (
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 32
)


def client_for(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


def pdf_file(name: str = "evidence.pdf") -> io.BytesIO:
    f = io.BytesIO(PDF_BYTES)
    f.name = name
    return f


def file_objection(applicant: Any, record: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "record": record.pk,
        "grounds": "error",
        "description": "罚款金额有误，应为3000元。",
        "commitment_accepted": True,
        **extra,
    }
    r = client_for(applicant).post("/api/v1/objections/", body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def open_task(case_id: int, step: str, kind: str | None = None) -> CaseTask:
    return CaseTask.objects.get(
        case_kind=kind or next(k.code for k in kinds() if step in k.steps),
        case_id=case_id,
        step=step,
        status__in=["NEW", "ASSIGNED"],
    )


def complete(user: Any, task: CaseTask | int, expect: int = 200, **data: Any) -> dict[str, Any]:
    task_id = task if isinstance(task, int) else task.pk
    r = client_for(user).post(f"/api/v1/tasks/{task_id}/complete/", data, format="json")
    assert r.status_code == expect, r.content
    return r.json()


def file_repair(applicant: Any, record: Any, *, expect: int = 201, **extra: Any) -> dict[str, Any]:
    """File a repair over multipart with one proof PDF and the signed commitment."""
    body = {
        "record": record.pk,
        "correction_statement": "罚款已于2026年1月缴清，整改报告已提交。",
        "commitment_text": "本单位承诺不再发生同类失信行为。",
        "commitment_accepted": "true",
        "evidence": [pdf_file("proof.pdf")],
        **extra,
    }
    body = {k: v for k, v in body.items() if v is not None}
    r = client_for(applicant).post("/api/v1/repairs/", body, format="multipart")
    assert r.status_code == expect, r.content
    return r.json()


def sign_commitment(applicant: Any, expect: int = 201, **extra: Any) -> dict[str, Any]:
    """Sign a notification commitment (告知承诺) to SAMR through the API."""
    body = {
        "kind": "notification",
        "department": "SAMR",
        "matter_reference": "SZ-SAMR-2026-0001",
        "matter_title": "食品经营许可（告知承诺）",
        "text": "本企业已具备食品经营许可条件。",
        "publicity": "public",
        "commitment_accepted": True,
        **extra,
    }
    r = client_for(applicant).post("/api/v1/commitments/", body, format="json")
    assert r.status_code == expect, r.content
    return r.json()


def detail(user: Any, case_id: int, kind: str = "objections") -> dict[str, Any]:
    r = client_for(user).get(f"/api/v1/{kind}/{case_id}/")
    assert r.status_code == 200, r.content
    return r.json()


def deliver_outbox() -> int:
    """Do what the worker does after commit: deliver every pending outbox row."""
    from notifications.models import Delivery
    from notifications.services import deliver

    ids = list(Delivery.objects.filter(status="pending").values_list("id", flat=True))
    for delivery_id in ids:
        deliver(delivery_id)
    return len(ids)
