"""Objection services: every transition and every refusal (SPEC §5)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notifications.models import Notification
from objections import services as svc
from objections.models import Evidence, Objection
from processes import services as app
from processes.sweeps import run_all
from tests.factories import CreditRecordFactory, UserFactory
from tests.processes.helpers import PDF_BYTES, client_for, deliver_outbox, open_task
from workflow_app.api import Conflict, Forbidden, NotFound, ServiceError
from workflow_app.audit.models import TransitionLog
from workflow_app.workdays.models import Deadline

pytestmark = pytest.mark.django_db

TZ = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def record(company, samr):
    return CreditRecordFactory(subject=company, department=samr)


def _file(applicant, record, **kw):
    args = {
        "applicant": applicant,
        "record_id": record.pk,
        "grounds": "error",
        "description": "金额有误",
        "commitment_accepted": True,
    }
    args.update(kw)
    return app.case_file("objection", **args)


# --- filing -------------------------------------------------------------------------------------


def test_submit_creates_case_deadline_audit_and_notifications(applicant, record, centre_user):
    o = _file(applicant, record)
    assert o.status == "submitted"
    dl = Deadline.objects.get(case_kind="objection", case_id=o.pk, kind="objection_intake")
    assert dl.status == "open" and dl.queue == "centre"
    assert dl.basis  # how it was computed is recorded
    assert TransitionLog.objects.filter(
        case_kind="objection", case_id=o.pk, to_state="submitted"
    ).exists()
    deliver_outbox()
    assert Notification.objects.filter(recipient=applicant, event="objection.submitted").exists()
    assert Notification.objects.filter(recipient=centre_user, event="objection.new_task").exists()
    assert o.policy_snapshot["params"]["objection_intake_days"] == 2


def test_submit_refuses_another_subjects_record(other_applicant, record):
    with pytest.raises(NotFound) as exc:
        _file(other_applicant, record)
    assert "不属于您的企业" in exc.value.message
    assert Objection.objects.count() == 0


def test_submit_refuses_staff(centre_user, record):
    with pytest.raises(Forbidden):
        _file(centre_user, record)


def test_submit_refuses_record_not_published(applicant, company, samr):
    rec = CreditRecordFactory(subject=company, department=samr, status="repaired")
    with pytest.raises(ServiceError) as exc:
        _file(applicant, rec)
    assert "公示中" in exc.value.message


def test_submit_refuses_without_commitment(applicant, record):
    with pytest.raises(ServiceError) as exc:
        _file(applicant, record, commitment_accepted=False)
    assert exc.value.errors[0]["field"] == "commitment_accepted"
    assert Objection.objects.count() == 0


def test_submit_refuses_duplicate_open_objection(applicant, record):
    first = _file(applicant, record)
    with pytest.raises(Conflict) as exc:
        _file(applicant, record)
    assert first.reference in exc.value.message
    # once withdrawn, a new objection is allowed
    app.case_withdrawn("objection", case=first, by=applicant)
    assert _file(applicant, record).status == "submitted"


def test_evidence_checked_by_content_and_size(applicant, record, settings):
    fake_pdf = SimpleUploadedFile(
        "scan.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf"
    )
    with pytest.raises(ServiceError) as exc:
        _file(applicant, record, files=[fake_pdf])
    assert "scan.pdf" in exc.value.message and "PDF" in exc.value.message
    settings.EVIDENCE_MAX_BYTES = 50
    big = SimpleUploadedFile("big.pdf", PDF_BYTES, content_type="application/pdf")
    with pytest.raises(ServiceError) as exc:
        _file(applicant, record, files=[big])
    assert "超过" in exc.value.message
    assert Objection.objects.count() == 0 and Evidence.objects.count() == 0


def test_evidence_stored_with_hash(applicant, record):
    pdf = SimpleUploadedFile("proof.pdf", PDF_BYTES, content_type="application/pdf")
    o = _file(applicant, record, files=[pdf])
    ev = o.evidence.get()
    assert ev.original_name == "proof.pdf" and ev.content_type == "application/pdf"
    assert len(ev.sha256) == 64


def test_multipart_filing_over_http(applicant, record):
    pdf = SimpleUploadedFile("proof.pdf", PDF_BYTES, content_type="application/pdf")
    r = client_for(applicant).post(
        "/api/v1/objections/",
        {
            "record": record.pk,
            "grounds": "error",
            "description": "x",
            "commitment_accepted": "true",
            "evidence": [pdf],
        },
        format="multipart",
    )
    assert r.status_code == 201, r.content
    assert Evidence.objects.filter(objection_id=r.json()["id"]).count() == 1


def test_bad_json_gets_field_errors_not_500(applicant, record):
    r = client_for(applicant).post(
        "/api/v1/objections/", {"record": "abc", "grounds": "nope"}, format="json"
    )
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"record", "grounds", "description"} <= fields


# --- intake -------------------------------------------------------------------------------------


def test_wrong_role_cannot_accept(applicant, record, dept_samr):
    o = _file(applicant, record)
    with pytest.raises(Forbidden):
        svc.objection_accept(objection=o, by=dept_samr)
    with pytest.raises(Forbidden):
        svc.objection_accept(objection=o, by=applicant)
    o.refresh_from_db()
    assert o.status == "submitted"


def test_wrong_state_is_a_conflict(applicant, record, centre_user):
    o = _file(applicant, record)
    with pytest.raises(Conflict) as exc:
        svc.objection_forward(objection=o, by=centre_user)
    assert "已提交" in exc.value.message


def test_department_that_does_not_own_the_record_cannot_resolve(
    applicant, record, centre_user, dept_emb, dept_samr
):
    o = _file(applicant, record)
    svc.objection_accept(objection=o, by=centre_user)
    svc.objection_forward(objection=o, by=centre_user)
    with pytest.raises(Forbidden):
        svc.objection_resolve(objection=o, by=dept_emb, outcome="confirmed", reason="x")
    svc.objection_resolve(objection=o, by=dept_samr, outcome="confirmed", reason="核实无误")
    o.refresh_from_db()
    assert o.status == "resolved"


def test_modified_requires_content(applicant, record, centre_user, dept_samr):
    o = _file(applicant, record)
    svc.objection_accept(objection=o, by=centre_user)
    svc.objection_forward(objection=o, by=centre_user)
    with pytest.raises(ServiceError) as exc:
        svc.objection_resolve(objection=o, by=dept_samr, outcome="modified", reason="x")
    assert exc.value.errors[0]["field"] == "content"


def test_only_owner_withdraws(applicant, other_applicant, record):
    o = _file(applicant, record)
    with pytest.raises(NotFound):
        svc.objection_withdraw(objection=o, by=other_applicant)


def test_supplement_only_when_asked(applicant, record):
    o = _file(applicant, record)
    with pytest.raises(Conflict):
        app.case_supplement_given("objection", case=o, by=applicant, text="x")


# --- deadlines over time ------------------------------------------------------------------------


def _at(y, m, d, h=10):
    return datetime.datetime(y, m, d, h, 0, tzinfo=TZ)


def test_reminder_then_escalation_once(applicant, record, centre_user, supervisor):
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 3, 2)):  # Monday
        o = _file(applicant, record)
    dl = Deadline.objects.get(case_id=o.pk, kind="objection_intake")
    # 2 working days: Tue 3 and Wed 4 March 2026 → due Wed 23:59:59
    assert timezone.localtime(dl.due_at).date() == datetime.date(2026, 3, 4)
    # before the reminder window nothing happens
    assert run_all(now=_at(2026, 3, 2, 11))["reminders"] == 0
    # inside the window: one reminder to the centre group (nobody holds the task)
    assert run_all(now=_at(2026, 3, 3, 9))["reminders"] == 1
    assert run_all(now=_at(2026, 3, 3, 10))["reminders"] == 0
    deliver_outbox()
    assert (
        Notification.objects.filter(recipient=centre_user, event="deadline.reminder").count() == 1
    )
    # past the deadline: escalated to supervisors once, recorded on the case
    assert run_all(now=_at(2026, 3, 5, 9))["escalations"] == 1
    assert run_all(now=_at(2026, 3, 6, 9))["escalations"] == 0
    deliver_outbox()
    assert (
        Notification.objects.filter(recipient=supervisor, event="deadline.escalated").count() == 1
    )
    assert TransitionLog.objects.filter(case_id=o.pk, event="escalation").count() == 1
    tasks = client_for(centre_user).get("/api/v1/tasks/").json()["results"]
    assert tasks[0]["overdue"] is True  # overdue is a flag, not a state
    o.refresh_from_db()
    assert o.status == "submitted"


def test_supplement_stops_and_restarts_intake_clock(applicant, record, centre_user):
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 3, 2)):
        o = _file(applicant, record)
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 3, 3)):
        svc_task = open_task(o.pk, "objection_intake")
        app.task_complete(
            task_id=svc_task.pk,
            user=centre_user,
            decision="request_supplement",
            data={"reason": "补充凭证"},
        )
    first_intake = Deadline.objects.get(case_id=o.pk, kind="objection_intake")
    assert first_intake.status == "stopped"
    sup = Deadline.objects.get(case_id=o.pk, kind="objection_supplement")
    # 5 working days from Tue 3 March: 4,5,6,9,10 → Tue 10 March
    assert timezone.localtime(sup.due_at).date() == datetime.date(2026, 3, 10)
    # supplement arrives on Monday 9 March: intake counts anew (2 working days → Wed 11 March)
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 3, 9)):
        app.case_supplement_given("objection", case=o, by=applicant, text="已补充")
    sup.refresh_from_db()
    assert sup.status == "met"
    new_intake = Deadline.objects.filter(case_id=o.pk, kind="objection_intake", status="open").get()
    assert timezone.localtime(new_intake.due_at).date() == datetime.date(2026, 3, 11)
    assert open_task(o.pk, "objection_intake").due_at == new_intake.due_at


def test_supplement_period_lapses_to_not_accepted(applicant, record, centre_user):
    with mock.patch("django.utils.timezone.now", return_value=_at(2026, 3, 2)):
        o = _file(applicant, record)
        app.task_complete(
            task_id=open_task(o.pk, "objection_intake").pk,
            user=centre_user,
            decision="request_supplement",
            data={"reason": "补充凭证"},
        )
    # due Mon 9 March 23:59:59 (3,4,5,6,9); on the 9th nothing lapses
    assert run_all(now=_at(2026, 3, 9, 20))["objection_lapses"] == 0
    result = run_all(now=_at(2026, 3, 10, 9))
    assert result["objection_lapses"] == 1
    assert result["escalations"] == 0  # a lapse is not an overdue task
    o.refresh_from_db()
    assert o.status == "not_accepted"
    assert run_all(now=_at(2026, 3, 11, 9))["objection_lapses"] == 0
    deliver_outbox()
    assert Notification.objects.filter(recipient=applicant, event="objection.lapsed").exists()
    from processes.models import CaseTask

    assert not CaseTask.objects.filter(case_id=o.pk, status__in=["NEW", "ASSIGNED"]).exists()


def test_policy_snapshot_keeps_running_deadlines(applicant, record, centre_user):
    from workflow_app.workdays.policy import policy_update

    o = _file(applicant, record)
    admin = UserFactory(username="admin", administrator=True)
    policy_update(params={"objection_platform_check_days": 7}, by=admin, note="test")
    svc.objection_accept(objection=o, by=centre_user)
    dl = Deadline.objects.get(case_id=o.pk, kind="objection_platform_check")
    assert dl.amount == 2  # the case keeps the values in force when it was filed
