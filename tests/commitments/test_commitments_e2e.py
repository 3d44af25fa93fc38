"""Credit commitments end to end over HTTP (SPEC §7, §12): signing and exclusion, verification,
breach review, sweeps, random checks, publicity on the report, credit check before approvals."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commitments.models import Commitment, CreditCheck, RandomCheck
from notifications.models import Notification
from processes.models import CaseTask
from processes.sweeps import run_all
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory
from tests.processes.helpers import (
    client_for,
    complete,
    deliver_outbox,
    open_task,
)
from tests.processes.helpers import sign_commitment as sign
from workflow_app.audit.services import verify_chains
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db


def cdetail(user, cid):
    r = client_for(user).get(f"/api/v1/commitments/{cid}/")
    assert r.status_code == 200, r.content
    return r.json()


def _report(company):
    return client_for(None).get(f"/api/v1/subjects/{company.identifier}/report/").json()


# --- signing --------------------------------------------------------------------------------------


def test_notification_commitment_opens_a_verification_task_due_in_three_months(
    applicant, samr, dept_samr
):
    body = sign(applicant)
    assert body["status"] == "active"
    ref = body["reference"]
    assert len(ref) == 20 and ref.startswith("440300")
    assert ref[6:14] == timezone.localdate().strftime("%Y%m%d")
    task = open_task(body["id"], "commitment_verification")
    assert task.queue == "dept:SAMR"
    dl = next(d for d in body["deadlines"] if d["kind"] == "commitment_verification")
    assert dl["unit"] == "months" and dl["amount"] == 3
    rows = client_for(dept_samr).get("/api/v1/tasks/?kind=commitment").json()["results"]
    assert [t["step"] for t in rows] == ["commitment_verification"]


def test_repair_kind_and_deficiency_without_due_date_are_refused(applicant, samr):
    body = sign(applicant, expect=400, kind="repair")
    assert "修复" in body["message"]
    body = sign(applicant, expect=400, kind="deficiency")
    assert any(e["field"] == "due_date" for e in body["errors"])
    assert Commitment.objects.count() == 0


def test_black_listed_subject_is_excluded(db, samr):
    baoan = SubjectFactory(name="深圳市宝安示例制造有限公司", black_list=True)
    user = UserFactory(username="applicant2", role="applicant", subject=baoan)
    body = sign(user, expect=400)
    assert body["code"] == "excluded" and "黑名单" in body["message"]
    # voluntary commitments stay open to everyone
    assert sign(user, kind="voluntary", department="", matter_reference="")["status"] == "active"
    assert Commitment.objects.filter(subject=baoan).count() == 1


def test_fulfilment_evidence_notifies_the_department(applicant, samr, dept_samr):
    from tests.processes.helpers import pdf_file

    cid = sign(applicant)["id"]
    r = client_for(applicant).post(
        f"/api/v1/commitments/{cid}/fulfilment/",
        {"note": "许可条件已具备，见附件", "evidence": [pdf_file("证明.pdf")]},
        format="multipart",
    )
    assert r.status_code == 200, r.content
    assert r.json()["evidence"][0]["stage"] == "fulfilment"
    deliver_outbox()
    assert Notification.objects.filter(
        recipient=dept_samr, event="commitment.fulfilment_submitted"
    ).exists()


# --- verification and breach review ----------------------------------------------------------------


def test_notification_fulfilled(applicant, samr, dept_samr):
    cid = sign(applicant)["id"]
    complete(dept_samr, open_task(cid, "commitment_verification"), decision="fulfilled")
    c = cdetail(applicant, cid)
    assert c["status"] == "fulfilled" and c["finding"] == "fully" and c["found_by"] == "dept_samr"
    assert not CaseTask.objects.filter(case_kind="commitment", case_id=cid, status="NEW").exists()


def test_breach_confirmed_publishes_a_record_revokes_the_approval_and_excludes(
    applicant, company, samr, dept_samr, supervisor
):
    cid = sign(applicant)["id"]
    complete(
        dept_samr,
        open_task(cid, "commitment_verification"),
        expect=400,
        decision="breach_suspected",
    )
    complete(
        dept_samr,
        open_task(cid, "commitment_verification"),
        decision="breach_suspected",
        reason="现场核查：未取得健康证明，不具备经营条件",
        outcome="not",
    )
    assert cdetail(applicant, cid)["status"] == "breach_suspected"
    review = open_task(cid, "breach_review")
    assert review.queue == "supervisors"
    complete(supervisor, review, decision="confirm", reason="核查属实")
    c = cdetail(applicant, cid)
    assert c["status"] == "breach_confirmed" and c["matter_status"] == "revoked"
    assert c["verification_code"]
    v = client_for(None).get(f"/api/v1/verify/{c['verification_code']}/").json()
    assert v["decision_label"] == "确认违背信用承诺" and v["in_force"] is True
    assert "核查属实" in v["summary"]
    record = CreditRecord.objects.get(pk=c["breach_record"])
    assert record.category == "supervision" and record.nature == "dishonesty"
    assert record.department.code == "SAMR" and "违背信用承诺" in record.title
    assert record.pk in {row["id"] for row in _report(company)["records"]}
    # the next commitment-based approval is refused
    body = sign(applicant, expect=400, matter_reference="SZ-SAMR-2026-0002")
    assert body["code"] == "excluded" and "违背信用承诺" in body["message"]
    deliver_outbox()
    assert Notification.objects.filter(
        recipient=applicant, event="commitment.breach_confirmed"
    ).exists()
    assert Notification.objects.filter(
        recipient=dept_samr, event="commitment.breach_confirmed"
    ).exists()
    assert not verify_chains()


def test_breach_dismissed_returns_to_active(applicant, samr, dept_samr, supervisor):
    cid = sign(applicant)["id"]
    complete(
        dept_samr,
        open_task(cid, "commitment_verification"),
        decision="breach_suspected",
        reason="材料不一致",
    )
    review = open_task(cid, "breach_review")
    complete(supervisor, review, expect=400, decision="dismiss")
    complete(supervisor, review, decision="dismiss", reason="已补充说明，系笔误")
    c = cdetail(applicant, cid)
    assert c["status"] == "active" and c["review_reason"] == "已补充说明，系笔误"
    assert sign(applicant, matter_reference="SZ-2")["status"] == "active"  # not excluded


def test_department_cannot_review_and_other_department_cannot_verify(
    applicant, samr, dept_samr, dept_emb, supervisor
):
    cid = sign(applicant)["id"]
    complete(dept_emb, open_task(cid, "commitment_verification"), expect=404, decision="fulfilled")
    complete(
        dept_samr,
        open_task(cid, "commitment_verification"),
        decision="breach_suspected",
        reason="x",
    )
    complete(dept_samr, open_task(cid, "breach_review"), expect=404, decision="confirm", reason="x")


# --- sweeps ------------------------------------------------------------------------------------------


def test_deficiency_lapses_and_due_date_breach_by_the_sweep(applicant, samr, dept_samr, supervisor):
    due = timezone.localdate() + datetime.timedelta(days=10)
    deficiency = sign(applicant, kind="deficiency", due_date=due.isoformat())["id"]
    voluntary = sign(
        applicant,
        kind="voluntary",
        department="SAMR",
        due_date=due.isoformat(),
        matter_reference="",
    )["id"]
    dl = next(
        d
        for d in cdetail(applicant, deficiency)["deadlines"]
        if d["kind"] == "commitment_verification"
    )
    assert dl["due_at"].startswith(due.isoformat())
    assert run_all(now=timezone.now())["commitment_lapses"] == 0
    later = timezone.now() + datetime.timedelta(days=12)
    result = run_all(now=later)
    assert result["commitment_lapses"] == 1 and result["commitment_breaches"] == 1
    c = cdetail(applicant, deficiency)
    assert c["status"] == "lapsed" and c["matter_status"] == "terminated"
    assert not CaseTask.objects.filter(
        case_kind="commitment", case_id=deficiency, status__in=["NEW", "ASSIGNED"]
    ).exists()
    v = cdetail(applicant, voluntary)
    assert v["status"] == "breach_suspected"
    assert open_task(voluntary, "breach_review").queue == "supervisors"
    again = run_all(now=later)
    assert again["commitment_lapses"] == 0 and again["commitment_breaches"] == 0


# --- random checks ----------------------------------------------------------------------------------


def test_random_check_shares_per_grade_and_replay(db, samr, supervisor):
    from commitments.models import Kind, Publicity, Status

    UserFactory(username="samr_1", role="department", department=samr)
    UserFactory(username="samr_2", role="department", department=samr)
    grades = ["A", "BB", "CCC", "D"]
    subjects = {g: SubjectFactory(grade=g) for g in grades}
    red = SubjectFactory(grade="CCC", red_list=True)
    signer = UserFactory(username="signer", role="applicant", subject=subjects["A"])
    now = timezone.now()
    rows = []
    n = 0
    for g in grades:
        for _ in range(250 if g != "D" else 100):
            n += 1
            rows.append(
                Commitment(
                    reference=f"4403002026120{n:07d}",
                    subject=subjects[g],
                    signer=signer,
                    kind=Kind.VOLUNTARY,
                    status=Status.ACTIVE,
                    department=samr,
                    matter_title="主动承诺",
                    text="诚信经营",
                    publicity=Publicity.PUBLIC,
                    signed_at=now,
                    policy_snapshot={},
                )
            )
    for _ in range(200):
        n += 1
        rows.append(
            Commitment(
                reference=f"4403002026120{n:07d}",
                subject=red,
                signer=signer,
                kind=Kind.VOLUNTARY,
                status=Status.ACTIVE,
                department=samr,
                matter_title="主动承诺",
                text="诚信经营",
                publicity=Publicity.PUBLIC,
                signed_at=now,
                policy_snapshot={},
            )
        )
    Commitment.objects.bulk_create(rows)
    r = client_for(supervisor).post("/api/v1/random-checks/", {"seed": 20261202}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["population"] == 1050
    drawn = set(body["drawn"])
    by_subject = dict(Commitment.objects.filter(pk__in=drawn).values_list("id", "subject_id"))
    share = {
        key: sum(1 for s in by_subject.values() if s == subj.pk) / total
        for key, subj, total in [
            ("A", subjects["A"], 250),
            ("BB", subjects["BB"], 250),
            ("CCC", subjects["CCC"], 250),
            ("D", subjects["D"], 100),
            ("red", red, 200),
        ]
    }
    assert abs(share["A"] - 0.05) < 0.01
    assert abs(share["BB"] - 0.20) < 0.01
    assert abs(share["CCC"] - 0.60) < 0.01
    assert share["D"] == 1.0
    assert abs(share["red"] - 0.30) < 0.01  # red list: half of CCC's 60 %
    # each drawn commitment has a verification task assigned to a SAMR caseworker
    tasks = CaseTask.objects.filter(case_kind="commitment", step="commitment_verification")
    assert tasks.count() == len(drawn)
    assert set(tasks.values_list("owner__username", flat=True)) <= {"samr_1", "samr_2"}
    # stored and replayable
    check = RandomCheck.objects.get(pk=body["id"])
    assert check.seed == 20261202 and check.started_by == supervisor
    replay = client_for(supervisor).post(f"/api/v1/random-checks/{check.pk}/replay/").json()
    assert replay["matches"] is True and replay["assignees_match"] is True
    detail = client_for(supervisor).get(f"/api/v1/random-checks/{check.pk}/").json()
    assert detail["drawn"] == body["drawn"]
    from django.test import Client

    web = Client()
    web.force_login(supervisor)
    page = web.get(f"/random-checks/{check.pk}/")
    assert page.status_code == 200
    assert [c.pk for c in page.context["drawn"]] == body["drawn"]  # every one, in draw order
    assert "BB 20%" in page.content.decode() and "× 0.5" in page.content.decode()  # readable ratios
    # a second draw skips those under verification
    again = client_for(supervisor).post("/api/v1/random-checks/", {"seed": 1}, format="json").json()
    assert not set(again["drawn"]) & drawn
    assert again["population"] == 1050 - len(drawn)


def test_random_checks_are_for_supervisors(applicant, dept_samr):
    assert (
        client_for(dept_samr).post("/api/v1/random-checks/", {}, format="json").status_code == 403
    )
    assert client_for(applicant).get("/api/v1/random-checks/").status_code == 403


# --- publicity and credit check ----------------------------------------------------------------------


def test_public_report_lists_public_commitments_only(client, applicant, company, samr, centre_user):
    public = sign(applicant, matter_title="公开的承诺")["reference"]
    restricted = sign(applicant, matter_title="受限的承诺", publicity="restricted")["reference"]
    hidden = sign(applicant, matter_title="不公开的承诺", publicity="none")["reference"]
    anon = _report(company)
    refs = {c["reference"] for c in anon["commitments"]}
    assert refs == {public}
    staff = client_for(centre_user).get(f"/api/v1/subjects/{company.identifier}/report/").json()
    assert {c["reference"] for c in staff["commitments"]} == {public, restricted}
    own = client_for(applicant).get(f"/api/v1/subjects/{company.identifier}/report/").json()
    assert {c["reference"] for c in own["commitments"]} == {public, restricted, hidden}
    html = client.get(f"/report/{company.identifier}/").content.decode()
    assert "公开的承诺" in html and "受限的承诺" not in html


def test_credit_check_answers(db, samr, dept_samr, applicant, company):
    black = SubjectFactory(black_list=True, grade="D")
    red = SubjectFactory(red_list=True, grade="A")
    clean = company
    CreditRecordFactory(subject=black, department=samr)

    def check(subject):
        r = client_for(dept_samr).get(
            f"/api/v1/subjects/{subject.identifier}/credit-check/?matter_reference=M-1"
        )
        assert r.status_code == 200, r.content
        return r.json()

    b = check(black)
    assert b["subject"]["black_list"] is True
    assert b["eligible"] == {"notification": False, "deficiency": False}
    codes = {m["code"] for m in b["measures"]}
    assert {"restricted_approval", "no_commitment_approval", "more_checks"} <= codes
    assert all(m["basis"] and m["text"] for m in b["measures"])
    assert len(b["dishonesty_records"]) == 1
    r = check(red)
    assert {m["code"] for m in r["measures"]} == {"green_channel", "fewer_checks"}
    assert r["eligible"]["notification"] is True
    c = check(clean)
    assert c["measures"] == [] and c["eligible"] == {"notification": True, "deficiency": True}
    assert CreditCheck.objects.count() == 3
    fb = client_for(dept_samr).post(
        f"/api/v1/credit-checks/{b['check_id']}/feedback/",
        {"measure": "restricted_approval", "note": "不予适用告知承诺"},
        format="json",
    )
    assert fb.status_code == 200 and fb.json()["measure"] == "restricted_approval"
    staff_view = client_for(dept_samr).get(f"/api/v1/subjects/{black.identifier}/report/").json()
    assert staff_view["credit_checks"][0]["feedback_measure"] == "restricted_approval"
    assert (
        "credit_checks"
        not in client_for(None).get(f"/api/v1/subjects/{black.identifier}/report/").json()
    )
    bad = client_for(dept_samr).post(
        f"/api/v1/credit-checks/{b['check_id']}/feedback/", {"measure": "nope"}, format="json"
    )
    assert bad.status_code == 400
    # applicants and the public are refused; an invalid code gets a clear message
    assert (
        client_for(applicant).get(f"/api/v1/subjects/{red.identifier}/credit-check/").status_code
        == 403
    )
    assert client_for(None).get(f"/api/v1/subjects/{red.identifier}/credit-check/").status_code in (
        401,
        403,
    )
    r = client_for(dept_samr).get("/api/v1/subjects/91440300ABCDEFGHIJ/credit-check/")
    assert r.status_code == 400 and r.json()["message"]


def test_replay_command_and_monthly_task(applicant, samr, dept_samr, supervisor):
    from django.core.management import call_command

    from processes.tasks import monthly_random_check_task

    sign(applicant, kind="voluntary", matter_reference="")
    result = monthly_random_check_task()
    check = RandomCheck.objects.get(pk=result["check"])
    assert check.started_by is None and result["population"] >= 1
    call_command("replay_random_check", str(check.pk))  # raises CommandError on a mismatch
    check.drawn = [999999]
    check.save()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("replay_random_check", str(check.pk))
