"""The dashboard counts open objections and repairs per department from the deadline table (one
covering index, no join to the records). That rests on an invariant of both workflows: every open
status has a running deadline and no closed case keeps one. This test walks real cases through
every open status, and some to the end, and compares with the case tables."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from objections.models import OPEN_STATUSES as OBJECTION_OPEN
from objections.models import Objection
from repair.models import OPEN_STATUSES as REPAIR_OPEN
from repair.models import Repair
from tests.conftest import as_user
from tests.factories import CreditRecordFactory
from tests.processes.helpers import complete, file_objection, file_repair, open_task

pytestmark = pytest.mark.django_db


def _record(company, dept, **extra):
    return CreditRecordFactory(
        subject=company, department=dept, decision_date=datetime.date(2025, 6, 3), **extra
    )


def test_open_cases_per_department_match_the_case_tables(
    applicant, company, samr, emb, centre_user, dept_samr, supervisor
):
    submitted = file_objection(applicant, _record(company, samr))["id"]
    accepted = file_objection(applicant, _record(company, samr))["id"]
    complete(centre_user, open_task(accepted, "objection_intake"), decision="accept")
    forwarded = file_objection(applicant, _record(company, emb))["id"]
    complete(centre_user, open_task(forwarded, "objection_intake"), decision="accept")
    complete(centre_user, open_task(forwarded, "objection_platform_check"), decision="forward")
    waiting = file_objection(applicant, _record(company, emb))["id"]
    complete(
        centre_user,
        open_task(waiting, "objection_intake"),
        decision="request_supplement",
        reason="请补充缴款凭证。",
    )
    refused = file_objection(applicant, _record(company, samr))["id"]
    complete(
        centre_user, open_task(refused, "objection_intake"), decision="not_accept", reason="重复"
    )
    repair_open = file_repair(applicant, _record(company, samr))["id"]
    repair_review = file_repair(applicant, _record(company, samr))["id"]
    complete(centre_user, open_task(repair_review, "repair_intake"), decision="route")

    data = as_user(APIClient(), supervisor).get("/api/v1/dashboard/").json()
    by_department = {d["code"]: d["open_cases"] for d in data["departments"]}
    by_kind = {w["kind"]: w["open_cases"] for w in data["workflows"]}

    open_objections = Objection.objects.filter(status__in=OBJECTION_OPEN)
    open_repairs = Repair.objects.filter(status__in=REPAIR_OPEN)
    expected: dict[str, int] = {}
    for case in list(open_objections) + list(open_repairs):
        code = case.record.department.code
        expected[code] = expected.get(code, 0) + 1
    assert by_department == expected == {"SAMR": 4, "EMB": 2}
    assert by_kind["objection"] == open_objections.count() == 4
    assert by_kind["repair"] == open_repairs.count() == 2
    assert {submitted, accepted, forwarded, waiting} == set(
        open_objections.values_list("pk", flat=True)
    )
    assert repair_open in set(open_repairs.values_list("pk", flat=True))
