"""Repair eligibility (SPEC §6): each rule failing alone, all at once, nothing stored after a
refusal; minimum publicity at month ends (民法典 Art. 201–203); the repeat window."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from processes import services as app
from repair.eligibility import evaluate, first_repairable_date, maximum_publicity_end
from repair.models import Evidence, Repair
from tests.factories import CreditRecordFactory, SubjectFactory
from tests.processes.helpers import PDF_BYTES
from workflow_app.audit.models import TransitionLog
from workflow_app.workdays.policy import DEFAULTS

pytestmark = pytest.mark.django_db


def _record(company, samr, **kw):
    return CreditRecordFactory(subject=company, department=samr, **kw)


def _pdf():
    return SimpleUploadedFile("proof.pdf", PDF_BYTES, content_type="application/pdf")


def _file(applicant, record, **kw):
    args = {
        "applicant": applicant,
        "record_id": record.pk,
        "correction_statement": "罚款已缴清",
        "commitment_text": "承诺不再发生同类失信行为",
        "commitment_accepted": True,
        "files": [_pdf()],
    }
    args.update(kw)
    return app.case_file("repair", **args)


def _object(applicant, record):
    """An objection to ``record``, open while it is handled."""
    return app.case_file(
        "objection",
        applicant=applicant,
        record_id=record.pk,
        grounds="error",
        description="金额有误",
        commitment_accepted=True,
    )


def _refused_rules(applicant, record, **kw):
    from workflow_app.api import ServiceError

    with pytest.raises(ServiceError) as exc:
        _file(applicant, record, **kw)
    assert exc.value.code == "ineligible"
    assert exc.value.status_code == 400
    return {e["rule"]: e["message"] for e in exc.value.errors}


def _nothing_stored():
    assert Repair.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert not TransitionLog.objects.filter(case_kind="repair").exists()


# --- minimum publicity at month ends ------------------------------------------------------------


def _built(**kw):
    record = CreditRecordFactory.build(**kw)
    record.subject_id = 1  # evaluate() only compares ids; nothing is saved
    return record


def _general(decided: datetime.date):
    return _built(severity="general", decision_date=decided)


def test_general_record_decided_on_30_november_is_repairable_from_1_march():
    """3 months from 2025-11-30: the period's last day is 2026-02-28 (February has no 30th,
    Art. 202); it has passed when that day is over, so 2026-03-01 is the first day. No Art. 203
    roll-forward: that protects a party that must act by the end, not one waiting it out."""
    record = _general(datetime.date(2025, 11, 30))
    assert first_repairable_date(record, DEFAULTS) == datetime.date(2026, 3, 1)

    def ok(day: datetime.date) -> bool:
        results = evaluate(subject_id=record.subject_id, record=record, params=DEFAULTS, today=day)
        return next(r for r in results if r.rule == "minimum_publicity").ok

    assert not ok(datetime.date(2026, 2, 27))
    assert not ok(datetime.date(2026, 2, 28))
    assert ok(datetime.date(2026, 3, 1))
    assert ok(datetime.date(2026, 3, 2))


def test_serious_record_waits_a_year_and_minor_is_repairable_at_once():
    serious = CreditRecordFactory.build(
        severity="serious", decision_date=datetime.date(2024, 2, 29)
    )
    assert first_repairable_date(serious, DEFAULTS) == datetime.date(2025, 3, 1)
    minor = _built(severity="minor", decision_date=datetime.date(2026, 12, 1))
    results = evaluate(
        subject_id=minor.subject_id, record=minor, params=DEFAULTS, today=datetime.date(2026, 12, 1)
    )
    assert next(r for r in results if r.rule == "minimum_publicity").ok


def test_maximum_publicity_end_uses_calendar_months():
    record = CreditRecordFactory.build(severity="general", decision_date=datetime.date(2025, 1, 31))
    assert maximum_publicity_end(record, DEFAULTS) == datetime.date(2026, 1, 31)
    record.severity = "serious"
    assert maximum_publicity_end(record, DEFAULTS) == datetime.date(2028, 1, 31)


def test_minimum_publicity_refusal_names_the_first_date(applicant, company, samr):
    today = timezone.localdate()
    record = _record(company, samr, decision_date=today - datetime.timedelta(days=10))
    rules = _refused_rules(applicant, record)
    assert set(rules) == {"minimum_publicity"}
    first = first_repairable_date(record, DEFAULTS)
    assert first.isoformat() in rules["minimum_publicity"]
    _nothing_stored()


def test_minor_record_can_be_filed_the_day_it_is_decided(applicant, company, samr):
    record = _record(company, samr, severity="minor", decision_date=timezone.localdate())
    repair = _file(applicant, record)
    assert repair.status == "submitted" and repair.reference.startswith("XF")


# --- each rule alone ----------------------------------------------------------------------------


def test_another_subjects_record_is_not_own_record(applicant, samr):
    other = CreditRecordFactory(subject=SubjectFactory(), department=samr)
    assert set(_refused_rules(applicant, other)) == {"not_own_record"}
    _nothing_stored()


def test_unknown_record_is_not_own_record(applicant):
    rules = _refused_rules(applicant, CreditRecordFactory.build(pk=999999))
    assert set(rules) == {"not_own_record"}


def test_not_published(applicant, company, samr):
    assert set(_refused_rules(applicant, _record(company, samr, status="expired"))) == {
        "not_published"
    }


def test_not_dishonesty(applicant, company, samr):
    record = _record(company, samr, nature="positive", severity="", category="honour")
    assert set(_refused_rules(applicant, record)) == {"not_dishonesty"}


def test_category_not_repairable_by_policy(applicant, company, samr, admin_user):
    from workflow_app.workdays.policy import policy_update

    policy_update(params={"non_repairable_categories": ["penalty"]}, by=admin_user, note="test")
    assert set(_refused_rules(applicant, _record(company, samr))) == {"category_not_repairable"}


def test_objection_open(applicant, company, samr):
    record = _record(company, samr)
    _object(applicant, record)
    rules = _refused_rules(applicant, record)
    assert set(rules) == {"objection_open"} and "YY" in rules["objection_open"]


def test_proof_missing(applicant, company, samr):
    assert set(_refused_rules(applicant, _record(company, samr), files=[])) == {"proof_missing"}
    _nothing_stored()


def test_commitment_missing(applicant, company, samr):
    rules = _refused_rules(applicant, _record(company, samr), commitment_accepted=False)
    assert set(rules) == {"commitment_missing"}


def test_repeat_window_names_the_earlier_approval_and_when_it_ends(applicant, company, samr):
    from repair.models import Status

    first = _file(applicant, _record(company, samr))
    approved_at = timezone.now() - datetime.timedelta(days=30)
    Repair.objects.filter(pk=first.pk).update(status=Status.APPROVED, decided_at=approved_at)
    rules = _refused_rules(applicant, _record(company, samr))
    assert set(rules) == {"repeat_window"}
    assert first.reference in rules["repeat_window"]
    assert timezone.localdate(approved_at).isoformat() in rules["repeat_window"]


def test_repeat_window_can_be_switched_off(applicant, company, samr, admin_user):
    from repair.models import Status
    from workflow_app.workdays.policy import policy_update

    first = _file(applicant, _record(company, samr))
    Repair.objects.filter(pk=first.pk).update(status=Status.APPROVED, decided_at=timezone.now())
    policy_update(params={"repeat_repair_check": False}, by=admin_user, note="off")
    assert _file(applicant, _record(company, samr)).status == "submitted"


def test_everything_failing_at_once_is_reported_together(applicant, company, samr):
    record = _record(
        company,
        samr,
        nature="positive",
        severity="",
        category="honour",
        status="expired",
        decision_date=timezone.localdate(),
    )
    rules = _refused_rules(applicant, record, files=[], commitment_accepted=False)
    assert {"not_published", "not_dishonesty", "proof_missing", "commitment_missing"} <= set(rules)
    _nothing_stored()


def test_refusal_over_http_is_400_with_every_rule(applicant, company, samr):
    from tests.processes.helpers import file_repair

    record = _record(company, samr, decision_date=timezone.localdate())
    body = file_repair(applicant, record, expect=400, evidence=None, commitment_accepted="false")
    assert body["code"] == "ineligible" and body["message"]
    assert {e["rule"] for e in body["errors"]} == {
        "minimum_publicity",
        "proof_missing",
        "commitment_missing",
    }
    assert all(e["message"] for e in body["errors"])
    _nothing_stored()


def test_eligibility_endpoint_for_the_owner_only(applicant, other_applicant, company, samr):
    from tests.processes.helpers import client_for

    record = _record(company, samr, decision_date=datetime.date(2025, 11, 30))
    r = client_for(applicant).get(f"/api/v1/records/{record.pk}/repair-eligibility/")
    assert r.status_code == 200
    body = r.json()
    assert body["first_date"] == "2026-03-01"
    assert {x["rule"] for x in body["rules"]} >= {"minimum_publicity", "objection_open"}
    r = client_for(other_applicant).get(f"/api/v1/records/{record.pk}/repair-eligibility/")
    assert r.status_code == 404


def test_the_rules_facts_in_one_read_are_the_three_reads(applicant, company, samr, emb):
    """A filing reads the open objection, the open repair and the last approval in one statement
    (repair.selectors.eligibility_facts): the same answers as the three reads, on the record's
    whole version chain, for the subject's most recent approval (ties broken by the later
    case)."""
    from repair.models import Status
    from repair.selectors import (
        eligibility_facts,
        last_approval,
        open_objection_ref,
        open_repair_ref,
    )

    def three(record):
        return open_objection_ref(record), open_repair_ref(record), last_approval(record.subject_id)

    objected = _record(company, samr, external_id="CHAIN-1")
    newer = _record(company, samr, external_id="CHAIN-1", version=2)  # same chain
    elsewhere = _record(company, emb, external_id="CHAIN-1")  # another department's chain
    repaired = _record(company, samr)
    plain = _record(company, samr)
    assert eligibility_facts(plain) == three(plain) == (None, None, None)

    _object(applicant, objected)
    open_repair = _file(applicant, repaired)
    approved = [_file(applicant, _record(company, samr)) for _ in range(3)]
    at = timezone.now() - datetime.timedelta(days=40)
    Repair.objects.filter(pk=approved[0].pk).update(status=Status.APPROVED, decided_at=at)
    Repair.objects.filter(pk__in=[approved[1].pk, approved[2].pk]).update(
        status=Status.REVOKED, decided_at=at + datetime.timedelta(days=1)
    )
    for record in (objected, newer, elsewhere, repaired, plain):
        assert eligibility_facts(record) == three(record), record.external_id
    facts = eligibility_facts(newer)
    assert facts[0] and facts[0].startswith("YY") and facts[1] is None
    assert eligibility_facts(repaired)[1] == open_repair.reference
    assert eligibility_facts(elsewhere)[:2] == (None, None)
    assert facts[2] == (approved[2].reference, at + datetime.timedelta(days=1))
    other = SubjectFactory()
    foreign = CreditRecordFactory(subject=other, department=samr, external_id="CHAIN-2")
    assert eligibility_facts(foreign) == three(foreign) == (None, None, None)
