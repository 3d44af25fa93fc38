"""A case's reference is made from its id: the id is reserved before the INSERT, so the row is
written once and its history starts with one creation row that carries the real reference."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commitments.models import Commitment
from objections.models import Objection
from repair.models import Repair
from tests.factories import CreditRecordFactory
from tests.processes.helpers import file_objection, file_repair, sign_commitment
from workflow_app.cases.transitions import case_next_id
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def _history(case):
    return [(h.history_type, h.reference) for h in case.history.order_by("history_id")]


def test_each_kind_is_filed_in_one_write_with_its_reference(applicant, company, samr):
    year = timezone.localdate().year
    objection = Objection.objects.get(
        pk=file_objection(applicant, CreditRecordFactory(subject=company, department=samr))["id"]
    )
    assert objection.reference == f"YY{year}{objection.pk:07d}"
    record = CreditRecordFactory(
        subject=company, department=samr, decision_date=datetime.date(2025, 6, 3)
    )
    repair = Repair.objects.get(pk=file_repair(applicant, record)["id"])
    assert repair.reference == f"XF{year}{repair.pk:07d}"
    commitment = Commitment.objects.get(pk=sign_commitment(applicant)["id"])
    assert commitment.reference.endswith(f"{commitment.pk % 1_000_000:06d}")
    for case in (objection, repair, commitment):
        assert _history(case)[0] == ("+", case.reference)
        assert not [h for h in _history(case) if h[1].startswith("TMP")]


def test_the_reserved_id_follows_the_rows_already_there():
    first = CreditRecordFactory()
    reserved = case_next_id(CreditRecord)
    assert reserved > first.pk
    assert CreditRecordFactory().pk >= reserved  # the next row does not reuse an earlier id
