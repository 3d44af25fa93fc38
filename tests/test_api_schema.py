"""The OpenAPI schema documents every endpoint of SPEC §12 (none silently dropped)."""

import pytest

pytestmark = pytest.mark.django_db

EXPECTED = [
    "/api/v1/auth/token/",
    "/api/v1/auth/me/",
    "/api/v1/records/",
    "/api/v1/subjects/{identifier}/report/",
    "/api/v1/objections/",
    "/api/v1/objections/{id}/",
    "/api/v1/objections/{id}/withdraw/",
    "/api/v1/objections/{id}/supplement/",
    "/api/v1/repairs/",
    "/api/v1/repairs/{id}/",
    "/api/v1/repairs/{id}/withdraw/",
    "/api/v1/repairs/{id}/supplement/",
    "/api/v1/repairs/{id}/revoke/",
    "/api/v1/records/{id}/repair-eligibility/",
    "/api/v1/commitments/",
    "/api/v1/commitments/{id}/",
    "/api/v1/tasks/",
    "/api/v1/tasks/{id}/claim/",
    "/api/v1/tasks/{id}/release/",
    "/api/v1/tasks/{id}/complete/",
    "/api/v1/verify/{code}/",
    "/api/v1/notifications/",
    "/api/v1/notifications/{id}/read/",
]


def test_schema_lists_every_endpoint(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert [p for p in EXPECTED if p not in paths] == []


def test_docs_page_renders_without_a_cdn(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert "cdn.jsdelivr" not in r.content.decode() and "unpkg.com" not in r.content.decode()


def test_schema_operation_ids_are_unique(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    ops = [op["operationId"] for path in r.json()["paths"].values() for op in path.values()]
    assert len(ops) == len(set(ops))
