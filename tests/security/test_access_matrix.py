"""Who may do what to whose object (SPEC §1, §10): one table, every object endpoint × every role.

Rows are endpoints, columns roles. Read the table at a glance:

* ``owner`` is the applicant whose company filed the cases; ``other`` is another company's
  applicant; ``person`` a natural person with an account; ``dept`` the department that made the
  record (SAMR), ``dept2`` another department (EMB).
* 401: not signed in (API); 302: sent to the login page (web); 403: may see, may not act;
  404: may not know it exists — the same answer as for an object that does not exist.
* 409: allowed to act but the case is not in a state for it (the access check passed).

Each cell runs against a freshly built world, so actions in one cell never affect another.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient

from notifications.models import Notification
from processes.models import CaseTask
from tests.factories import (
    CreditRecordFactory,
    DepartmentFactory,
    SubjectFactory,
    UserFactory,
    make_resident_id,
)
from tests.processes.helpers import client_for, file_objection, file_repair, sign_commitment
from workflow_app.registry.identifiers import mask_resident_id, resident_id_key

pytestmark = pytest.mark.django_db

ROLES = ("anon", "owner", "other", "person", "centre", "dept", "dept2", "supervisor", "admin")
PERSON_ID = make_resident_id(4242)


@dataclass
class World:
    users: dict[str, Any]
    objection: int
    repair: int
    commitment: int
    intake_task: int
    evidence: int
    notification: int
    credit_check: int
    random_check: int
    list_entry: int


def build_world() -> World:
    samr = DepartmentFactory(code="SAMR", name="市场监督管理局")
    emb = DepartmentFactory(code="EMB", name="应急管理局")
    company = SubjectFactory(name="深圳市坪山示例科技有限公司")
    person = SubjectFactory(
        natural=True,
        identifier=resident_id_key(PERSON_ID),
        identifier_display=mask_resident_id(PERSON_ID),
    )
    users = {
        "anon": None,
        "owner": UserFactory(username="owner", role="applicant", subject=company),
        "other": UserFactory(username="other", applicant=True),
        "person": UserFactory(username="person", role="applicant", subject=person),
        "centre": UserFactory(username="centre", centre=True),
        "dept": UserFactory(username="dept_samr", role="department", department=samr),
        "dept2": UserFactory(username="dept_emb", role="department", department=emb),
        "supervisor": UserFactory(username="supervisor", supervisor=True),
        "admin": UserFactory(username="admin", administrator=True),
    }
    old = datetime.date(2025, 6, 3)
    rec1 = CreditRecordFactory(subject=company, department=samr, decision_date=old)
    rec2 = CreditRecordFactory(subject=company, department=samr, decision_date=old)
    CreditRecordFactory(subject=person, department=samr, decision_date=old)
    objection = file_objection(users["owner"], rec1)["id"]
    with TestCase.captureOnCommitCallbacks(execute=True):  # evidence is stored after commit
        repair = file_repair(users["owner"], rec2)["id"]
    commitment = sign_commitment(users["owner"])["id"]
    from repair.models import Evidence

    evidence = Evidence.objects.filter(repair_id=repair).values_list("pk", flat=True)[0]
    intake = CaseTask.objects.get(
        case_kind="objection", case_id=objection, step="objection_intake", status="NEW"
    ).pk
    notification = Notification.objects.create(
        recipient=users["owner"],
        event_key="matrix-1",
        event="objection.filed",
        title="异议已受理",
        body="…",
    ).pk
    check = client_for(users["dept"]).get(f"/api/v1/subjects/{company.identifier}/credit-check/")
    assert check.status_code == 200, check.content
    drawn = client_for(users["supervisor"]).post(
        "/api/v1/random-checks/", {"seed": 7}, format="json"
    )
    assert drawn.status_code == 201, drawn.content
    from creditlists.services import list_join

    entry = list_join(
        subject=SubjectFactory(name="列入黑名单示例企业"),
        list_type="black",
        department=samr,
        reason="严重失信",
        decision_reference="列入〔2026〕1号",
        joined_on=datetime.date(2026, 1, 2),
        by=users["dept"],
    )
    return World(
        users=users,
        list_entry=entry.pk,
        objection=objection,
        repair=repair,
        commitment=commitment,
        intake_task=intake,
        evidence=evidence,
        notification=notification,
        credit_check=check.json()["check_id"],
        random_check=drawn.json()["id"],
    )


def api_call(method: str, path: Callable[[World], str], data: Any = None, fmt: str = "json"):
    def run(world: World, user: Any) -> int:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        response = getattr(client, method)(path(world), data, format=fmt)
        return response.status_code

    return run


def web_get(path: Callable[[World], str]):
    def run(world: World, user: Any) -> int:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client.get(path(world)).status_code

    return run


#       anon  owner other person centre dept dept2 superv admin
MATRIX: dict[str, tuple[Callable[[World, Any], int], tuple[int, ...]]] = {
    "objection detail": (
        api_call("get", lambda w: f"/api/v1/objections/{w.objection}/"),
        (401, 200, 404, 404, 200, 200, 404, 200, 200),
    ),
    "objection withdraw": (
        api_call("post", lambda w: f"/api/v1/objections/{w.objection}/withdraw/"),
        (401, 200, 404, 404, 403, 403, 404, 403, 403),
    ),
    "objection supplement": (
        api_call(
            "post", lambda w: f"/api/v1/objections/{w.objection}/supplement/", {"text": "补正"}
        ),
        (401, 409, 404, 404, 403, 403, 404, 403, 403),
    ),
    "repair detail": (
        api_call("get", lambda w: f"/api/v1/repairs/{w.repair}/"),
        (401, 200, 404, 404, 200, 200, 404, 200, 200),
    ),
    "repair withdraw": (
        api_call("post", lambda w: f"/api/v1/repairs/{w.repair}/withdraw/"),
        (401, 200, 404, 404, 403, 403, 404, 403, 403),
    ),
    "repair revoke (not approved yet)": (
        api_call("post", lambda w: f"/api/v1/repairs/{w.repair}/revoke/", {"reason": "x"}),
        (401, 403, 404, 404, 403, 403, 404, 409, 403),
    ),
    "commitment detail": (
        api_call("get", lambda w: f"/api/v1/commitments/{w.commitment}/"),
        (401, 200, 404, 404, 200, 200, 404, 200, 200),
    ),
    "commitment fulfilment": (
        api_call(
            "post",
            lambda w: f"/api/v1/commitments/{w.commitment}/fulfilment/",
            {"note": "已具备条件"},
            "multipart",
        ),
        (401, 200, 404, 404, 403, 403, 404, 403, 403),
    ),
    "task claim (centre queue)": (
        api_call("post", lambda w: f"/api/v1/tasks/{w.intake_task}/claim/"),
        (401, 404, 404, 404, 200, 404, 404, 200, 403),
    ),
    "task complete (centre queue)": (
        api_call(
            "post", lambda w: f"/api/v1/tasks/{w.intake_task}/complete/", {"decision": "accept"}
        ),
        (401, 404, 404, 404, 200, 404, 404, 200, 403),
    ),
    "task release (unclaimed)": (
        api_call("post", lambda w: f"/api/v1/tasks/{w.intake_task}/release/"),
        (401, 404, 404, 404, 200, 404, 404, 200, 200),
    ),
    "evidence download (web)": (
        web_get(lambda w: f"/repairs/{w.repair}/evidence/{w.evidence}/"),
        (302, 200, 404, 404, 200, 200, 404, 200, 200),
    ),
    "case page (web)": (
        web_get(lambda w: f"/objections/{w.objection}/"),
        (302, 200, 404, 404, 200, 200, 404, 200, 200),
    ),
    "notification read": (
        api_call("post", lambda w: f"/api/v1/notifications/{w.notification}/read/"),
        (401, 200, 404, 404, 404, 404, 404, 404, 404),
    ),
    "natural person's report": (
        api_call("get", lambda w: f"/api/v1/subjects/{PERSON_ID}/report/"),
        (404, 404, 404, 200, 200, 200, 200, 200, 200),
    ),
    "natural person's report (web)": (
        web_get(lambda w: f"/report/{PERSON_ID}/"),
        (404, 404, 404, 200, 200, 200, 200, 200, 200),
    ),
    "credit check": (
        api_call("get", lambda w: f"/api/v1/subjects/{PERSON_ID}/credit-check/"),
        (401, 403, 403, 403, 200, 200, 200, 200, 200),
    ),
    "credit check feedback": (
        api_call(
            "post",
            lambda w: f"/api/v1/credit-checks/{w.credit_check}/feedback/",
            {"measure": "more_checks"},
        ),
        (401, 403, 403, 403, 404, 200, 404, 200, 200),
    ),
    "random checks list": (
        api_call("get", lambda w: "/api/v1/random-checks/"),
        (401, 403, 403, 403, 403, 403, 403, 200, 200),
    ),
    "random check detail": (
        api_call("get", lambda w: f"/api/v1/random-checks/{w.random_check}/"),
        (401, 403, 403, 403, 403, 403, 403, 200, 200),
    ),
    "random check replay": (
        api_call("post", lambda w: f"/api/v1/random-checks/{w.random_check}/replay/"),
        (401, 403, 403, 403, 403, 403, 403, 200, 200),
    ),
    "dashboard": (
        api_call("get", lambda w: "/api/v1/dashboard/"),
        (401, 403, 403, 403, 200, 200, 200, 200, 200),
    ),
    "dashboard (web)": (
        web_get(lambda w: "/dashboard/"),
        (302, 403, 403, 403, 200, 200, 200, 200, 200),
    ),
    "dashboard steps list (web)": (
        web_get(lambda w: "/dashboard/steps/?state=open"),
        (302, 403, 403, 403, 200, 200, 200, 200, 200),
    ),
    "natural person's report PDF": (
        api_call("get", lambda w: f"/api/v1/subjects/{PERSON_ID}/report.pdf"),
        (404, 404, 404, 200, 200, 200, 200, 200, 200),
    ),
    "natural person's report PDF (web)": (
        web_get(lambda w: f"/report/{PERSON_ID}/report.pdf"),
        (404, 404, 404, 200, 200, 200, 200, 200, 200),
    ),
    "list entry leave": (
        api_call(
            "post",
            lambda w: f"/api/v1/lists/entries/{w.list_entry}/leave/",
            {
                "reason": "信用修复",
                "decision_reference": "移出〔2026〕1号",
                "left_on": "2026-01-05",
            },
        ),
        # administrators act in the admin (with the same service); the API is the departments'
        (401, 403, 403, 403, 403, 200, 403, 403, 403),
    ),
}

CELLS = [
    pytest.param(name, role, expected[i], id=f"{name} | {role}")
    for name, (_call, expected) in MATRIX.items()
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("endpoint", "role", "expected"), CELLS)
def test_access(endpoint, role, expected):
    world = build_world()
    call, _row = MATRIX[endpoint]
    assert call(world, world.users[role]) == expected


def test_a_natural_persons_existence_is_never_revealed():
    """The 404 for an existing natural person is byte-identical to the one for nobody."""
    world = build_world()
    nobody = make_resident_id(9999)
    for role in ("anon", "owner", "other"):
        client = APIClient()
        if world.users[role] is not None:
            client.force_authenticate(user=world.users[role])
        existing = client.get(f"/api/v1/subjects/{PERSON_ID}/report/")
        missing = client.get(f"/api/v1/subjects/{nobody}/report/")
        assert (existing.status_code, existing.content) == (missing.status_code, missing.content)
