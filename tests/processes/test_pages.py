"""Portal pages of the objection workflow render for the right people and refuse the others."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CreditRecordFactory
from tests.processes.helpers import file_objection, open_task

pytestmark = pytest.mark.django_db


def _web(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def case(applicant, company, samr):
    record = CreditRecordFactory(subject=company, department=samr)
    return file_objection(applicant, record)["id"]


def test_applicant_pages(applicant, case):
    web = _web(applicant)
    assert "YY" in web.get("/objections/").content.decode()
    page = web.get(f"/objections/{case}/").content.decode()
    assert 'data-status="submitted"' in page and "撤回申请" in page
    assert "受理期限" in page  # deadlines are explained by name, not by code


def test_other_applicant_gets_404(other_applicant, case):
    assert _web(other_applicant).get(f"/objections/{case}/").status_code == 404


def test_supervisor_queue_offers_bulk_assignment(supervisor, centre_user, case):
    page = _web(supervisor).get("/queue/").content.decode()
    assert 'name="tasks"' in page and 'value="centre"' in page
    task = open_task(case, "objection_intake")
    r = _web(supervisor).post("/queue/assign/", {"tasks": [task.pk], "assignee": "centre"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.owner == centre_user


def test_caseworker_task_page_and_wrong_decision_message(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    page = web.get(f"/tasks/{task.pk}/").content.decode()
    assert "办理决定" in page and 'value="accept"' in page
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "not_accept"}, follow=True)
    assert "须写明理由" in r.content.decode()
    task.refresh_from_db()
    assert task.status in ("NEW", "ASSIGNED")


def test_department_cannot_open_centre_task(dept_samr, case):
    task = open_task(case, "objection_intake")
    assert _web(dept_samr).get(f"/tasks/{task.pk}/").status_code == 404


def test_queue_page_in_english(centre_user, case):
    web = _web(centre_user)
    web.post("/i18n/setlang/", {"language": "en", "next": "/queue/"})
    page = web.get("/queue/").content.decode()
    assert "Task queue" in page or "Queue" in page


def test_a_refused_decision_keeps_what_was_typed(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "not_accept", "reason": ""})
    page = r.content.decode()
    assert r.status_code == 400 and "须写明理由" in page
    assert (
        'value="not_accept" data-fields="reason" data-reason-required="1" required checked' in page
    )
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "request_supplement", "reason": "  "})
    assert r.status_code == 400


def test_after_completing_the_caseworker_sees_what_was_decided_and_where_it_went(centre_user, case):
    web = _web(centre_user)
    task = open_task(case, "objection_intake")
    r = web.post(f"/tasks/{task.pk}/complete/", {"decision": "accept"}, follow=True)
    page = r.content.decode()
    assert r.redirect_chain[-1][0] == f"/objections/{case}/"
    assert "已办理" in page and "受理" in page and "下一环节：平台核查（信用中心）" in page
    assert "办理当前任务" in page  # a link to the next task


def test_staff_case_lists_search_and_filter_completed_cases_included(
    centre_user, applicant, company, samr, case
):
    from objections.models import Objection

    web = _web(centre_user)
    o = Objection.objects.get(pk=case)
    page = web.get(f"/objections/?q={o.reference}").content.decode()
    assert o.reference in page and company.name in page
    assert o.reference in web.get(f"/objections/?q={company.identifier}").content.decode()
    assert o.reference not in web.get("/objections/?q=nothing-like-it").content.decode()
    assert o.reference in web.get("/objections/?department=SAMR").content.decode()
    assert o.reference not in web.get("/objections/?department=EMB").content.decode()
    web.post(f"/objections/{case}/withdraw/")  # staff cannot withdraw; still listed either way
    assert web.get("/repairs/").status_code == 200 and web.get("/commitments/").status_code == 200


def test_applicant_dead_ends_are_gone(
    applicant, company, samr, case, django_capture_on_commit_callbacks
):
    from objections.models import Objection
    from tests.processes.helpers import pdf_file

    web = _web(applicant)
    o = Objection.objects.get(pk=case)
    # the report links the open case instead of a second objection button
    report = web.get(f"/report/{company.identifier}/").content.decode()
    assert (
        f"/objections/{case}/" in report and f"/objections/new/?record={o.record_id}" not in report
    )
    assert o.record.content[:10] in report  # the record's content is shown
    # the filing page of that record points to the open case
    page = web.get(f"/objections/new/?record={o.record_id}").content.decode()
    assert 'id="existing-case"' in page and f"/objections/{case}/" in page
    # the case page lets the owner add materials while it is open
    page = web.get(f"/objections/{case}/").content.decode()
    assert 'id="add-materials"' in page
    with django_capture_on_commit_callbacks(execute=True):
        r = web.post(
            f"/objections/{case}/materials/", {"evidence": [pdf_file("补充.pdf")]}, follow=True
        )
    assert "已补充 1 份材料" in r.content.decode()
    assert o.evidence.filter(original_name="补充.pdf").exists()
    # the home page's way in leads to choosing a record, not an error
    r = web.get("/objections/new/", follow=True)
    assert r.redirect_chain[-1][0] == f"/report/{company.identifier}/"


def test_a_long_case_list_counts_no_further_than_its_cap(
    monkeypatch, centre_user, applicant, company, samr, django_assert_max_num_queries
):
    """Past the cap the list says "more than" and its pages end there; the count reads no
    further than the cap (a department's list of 100,000 objections was counted whole, through
    its records, on every page view); under the cap the pages are exact."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes import views

    for _ in range(5):
        file_objection(applicant, CreditRecordFactory(subject=company, department=samr))
    monkeypatch.setattr(views, "CASE_LIST_PAGE", 2)
    monkeypatch.setattr(views, "CASE_LIST_COUNT_CAP", 3)
    web = _web(centre_user)
    with CaptureQueriesContext(connection) as ctx:
        page = web.get("/objections/").content.decode()
    assert "1 / 2+" in page and 'id="list-capped"' in page and "超过 3 件" in page
    count = next(q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper())
    assert "LIMIT 4" in count and "ORDER BY" not in count
    assert "2 / 2+" in web.get("/objections/?page=9").content.decode()  # pages end at the cap
    monkeypatch.setattr(views, "CASE_LIST_COUNT_CAP", 10)
    page = web.get("/objections/").content.decode()
    assert "1 / 3 " in page and "list-capped" not in page
    web.cookies["django_language"] = "en"
    monkeypatch.setattr(views, "CASE_LIST_COUNT_CAP", 3)
    assert (
        "More than 3 cases" in web.get("/objections/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def _row(reference: str) -> str:
    """A case's row in a list (the searched text is also echoed in the page's links)."""
    return f">{reference}</a>"


def test_search_finds_a_pasted_reference_or_code_through_its_index_and_text_within(
    monkeypatch, centre_user, applicant, company, samr, case
):
    """A whole reference or credit code is looked up exactly (by its index: a contains-search
    reads every case); part of a reference, or of a name, is still found within."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from objections.models import Objection

    o = Objection.objects.get(pk=case)
    web = _web(centre_user)
    for q, exact in (
        (o.reference, True),
        (o.reference.lower(), True),
        (company.identifier, True),
        (o.reference[:-2], False),
        (company.name[2:6], False),
    ):
        with CaptureQueriesContext(connection) as ctx:
            page = web.get("/objections/", {"q": q}).content.decode()
        assert _row(o.reference) in page, q
        listed = [
            x["sql"] for x in ctx.captured_queries if "LIMIT" in x["sql"] and "LIKE" in x["sql"]
        ]
        assert (not listed) is exact, (q, listed)
    assert (
        _row(o.reference)
        not in web.get("/objections/", {"q": "91440300MA5G0Q0X1T"}).content.decode()
    )
    # another company's case, found by its own name and nobody else's
    from tests.factories import SubjectFactory, UserFactory

    rival = SubjectFactory(name="竞争对手贸易有限公司")
    rival_user = UserFactory(username="rival", role="applicant", subject=rival)
    theirs = file_objection(rival_user, CreditRecordFactory(subject=rival, department=samr))
    assert _row(theirs["reference"]) in web.get("/objections/", {"q": "对手贸易"}).content.decode()
    assert _row(o.reference) not in web.get("/objections/", {"q": "对手贸易"}).content.decode()
    # a name shared by many subjects: the list walks the cases (joined with their subjects)
    # instead of listing the subjects
    from processes import selectors

    monkeypatch.setattr(selectors, "SEARCH_SUBJECTS_LISTED", 0)
    with CaptureQueriesContext(connection) as ctx:
        page = web.get("/objections/", {"q": company.name[2:6]}).content.decode()
    assert _row(o.reference) in page and _row(theirs["reference"]) not in page
    assert any("JOIN" in x["sql"] and "registry_subject" in x["sql"] for x in ctx.captured_queries)
    page = web.get("/objections/", {"q": "对手贸易"}).content.decode()
    assert _row(theirs["reference"]) in page and _row(o.reference) not in page
    # an applicant's search stays within what they may see: another subject's code or name
    mine = _web(applicant)
    for q in (rival.identifier, "对手贸易", theirs["reference"]):
        assert (
            _row(theirs["reference"]) not in mine.get("/objections/", {"q": q}).content.decode()
        ), q


def test_search_finds_a_commitment_by_its_matter_title_and_a_person_by_full_id(centre_user, samr):
    """A kind's own text (a commitment's matter title) is searched beside its reference and
    subject, also when the text is a whole code; a natural person's full resident ID finds
    their cases (their shown identifier is masked)."""
    from tests.factories import SubjectFactory, UserFactory, make_resident_id
    from tests.processes.helpers import sign_commitment

    applicant = UserFactory(username="signer", role="applicant", subject=SubjectFactory())
    signed = sign_commitment(applicant, matter_title="城镇燃气经营许可（告知承诺）")
    web = _web(centre_user)
    assert _row(signed["reference"]) in web.get("/commitments/", {"q": "燃气经营"}).content.decode()
    assert _row(signed["reference"]) not in web.get("/commitments/", {"q": "烟草"}).content.decode()
    person = SubjectFactory(natural=True)
    n = int(person.name.removeprefix("张"))
    resident = UserFactory(username="person", role="applicant", subject=person)
    case = file_objection(resident, CreditRecordFactory(subject=person, department=samr))
    page = web.get("/objections/", {"q": make_resident_id(n)}).content.decode()
    assert _row(case["reference"]) in page


def test_queue_rows_escape_every_value_and_show_state(centre_user, supervisor, case):
    """The queue's rows are rendered in Python (processes.views.queue_rows_html): every value
    escaped, a long record title cut to 40 characters, empty cells as a dash, an overdue row
    marked, the checkbox only for a supervisor, labels in the reader's language."""
    import datetime

    from django.template.defaultfilters import truncatechars
    from django.utils import timezone

    from processes.models import CaseTask

    task = open_task(case, "objection_intake")
    CaseTask.objects.filter(pk=task.pk).update(
        subject_name='<script>alert("x")</script> & Co',
        record_title="行政处罚" * 20,
        due_at=timezone.now() - datetime.timedelta(days=1),
    )
    page = _web(centre_user).get("/queue/").content.decode()
    assert "<script>alert" not in page and "{#" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    cut = truncatechars("行政处罚" * 20, 40)  # as the template's filter cut it
    assert len(cut) == 40 and f'data-label="所涉信息">{cut}</td>' in page
    assert '<tr class="row-overdue">' in page and "badge-danger" in page and "已逾期" in page
    assert 'data-label="申请主体"' in page and f'href="/tasks/{task.pk}/"' in page
    assert 'data-label="办理人">—</td>' in page  # nobody holds it yet
    assert 'name="tasks"' not in page  # a caseworker: no bulk assignment
    assert f'value="{task.pk}"' in _web(supervisor).get("/queue/").content.decode()
    web = _web(centre_user)
    web.post("/i18n/setlang/", {"language": "en", "next": "/queue/"})
    english = web.get("/queue/").content.decode()
    assert 'data-label="申请主体"' not in english and 'data-label="Applicant subject"' in english


def test_case_list_rows_escape_every_value_and_show_state(
    centre_user, applicant, company, samr, case
):
    """A case list's rows are rendered in Python (processes.views.case_rows_html) from the few
    columns they show: every value escaped, the subject's name only for staff, the status
    badge open or closed in the reader's language, the filing time in local time, a
    commitment's matter title or else its breach record's title."""
    from django.utils import timezone

    from commitments.models import Commitment
    from objections.models import Objection
    from tests.processes.helpers import sign_commitment
    from workflow_app.registry.models import Subject

    o = Objection.objects.get(pk=case)
    Subject.objects.filter(pk=company.pk).update(name='<b>"坏"</b> & Co')
    type(o.record).objects.filter(pk=o.record_id).update(title="<i>标题</i>")
    filed = timezone.localtime(o.filed_at).strftime("%Y-%m-%d %H:%M")
    staff = _web(centre_user).get("/objections/").content.decode()
    assert "<b>" not in staff and "<i>" not in staff
    assert "<td>&lt;b&gt;&quot;坏&quot;&lt;/b&gt; &amp; Co</td>" in staff
    assert "<td>&lt;i&gt;标题&lt;/i&gt;</td>" in staff
    assert f'<a href="/objections/{case}/">{o.reference}</a>' in staff
    assert '<span class="badge badge-warn" data-status="submitted">已提交</span>' in staff
    assert f"<td>{filed}</td>" in staff and "{#" not in staff
    own = _web(applicant).get("/objections/").content.decode()
    assert o.reference in own and "&quot;坏&quot;" not in own  # no subject column
    Objection.objects.filter(pk=case).update(status="withdrawn")
    web = _web(centre_user)
    web.post("/i18n/setlang/", {"language": "en", "next": "/objections/"})
    english = web.get("/objections/").content.decode()
    assert 'class="badge badge-muted" data-status="withdrawn">Withdrawn</span>' in english

    signed = sign_commitment(applicant)
    listed = web.get("/commitments/").content.decode()
    assert "<td>食品经营许可（告知承诺）</td>" in listed
    record = CreditRecordFactory(subject=company, department=samr, title="违诺记录")
    Commitment.objects.filter(pk=signed["id"]).update(matter_title="", breach_record=record)
    assert "<td>违诺记录</td>" in web.get("/commitments/").content.decode()


def test_an_empty_queue_says_so(centre_user):
    page = _web(centre_user).get("/queue/").content.decode()
    assert "队列中没有待办任务。" in page
