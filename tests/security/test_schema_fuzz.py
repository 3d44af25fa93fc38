"""Schema fuzzing (schemathesis): every operation of /api/schema/ is called with generated input,
without credentials and with each role's token, through the WSGI application on the test
database. Checked on every response: no server error, a documented status code, the documented
content type and a body that matches the documented schema.

Bounded for CI: FUZZ_EXAMPLES per operation and role, derandomised so a failure reproduces."""

from __future__ import annotations

import datetime
import os
import sys
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import CreditRecordFactory, UserFactory
from tests.processes.helpers import client_for, file_objection, file_repair

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))  # valid input, per operation and role
NEGATIVE_EXAMPLES = int(os.environ.get("FUZZ_NEGATIVE_EXAMPLES", "3"))  # input the schema forbids
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# revoking the caller's own token would turn the rest of the run into 401s; covered elsewhere
SKIP = {("POST", "/api/v1/auth/logout/")}


def _seed(applicant, company, samr) -> None:
    old = datetime.date(2025, 6, 3)
    file_objection(applicant, CreditRecordFactory(subject=company, department=samr))
    file_repair(applicant, CreditRecordFactory(subject=company, department=samr, decision_date=old))
    client_for(applicant).post(
        "/api/v1/commitments/",
        {
            "kind": "voluntary",
            "text": "本企业承诺诚信经营。",
            "publicity": "public",
            "commitment_accepted": True,
        },
        format="json",
    )


# committed data: the WSGI handler closes its database connection after each request, as in
# production, and the next request reconnects
@pytest.mark.django_db(transaction=True)
def test_every_operation_for_every_role(
    applicant, other_applicant, company, samr, centre_user, dept_samr, supervisor
):
    from workflow_app.wsgi import application

    _seed(applicant, company, samr)
    admin = UserFactory(username="admin", administrator=True)
    roles = {
        "anonymous": None,
        "applicant": applicant,
        "other applicant": other_applicant,
        "centre": centre_user,
        "department": dept_samr,
        "supervisor": supervisor,
        "admin": admin,
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if (result.ok().method.upper(), result.ok().path) not in SKIP
    ]
    assert len(operations) >= 30
    failures: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def fuzz(operation, role: str, headers: dict[str, str], mode: GenerationMode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @hsettings(
            max_examples=EXAMPLES if mode == GenerationMode.POSITIVE else NEGATIVE_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            calls[role] += 1
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported
                first = str(exc).strip().splitlines()[0:12]
                failures[f"{role} | {case.operation.label} | {' / '.join(first)}"] += 1

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing in this operation can be invalid

    for role, user in roles.items():
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(operation, role, headers, mode)

    print(
        f"\nschema fuzz: {len(operations)} operations x {len(roles)} roles, "
        f"{sum(calls.values())} requests, {sum(failures.values())} failures",
        file=sys.stderr,
    )
    assert not failures, "\n".join(f"{n}x {k}" for k, n in sorted(failures.items()))
