from __future__ import annotations

import pytest

from tests.factories import CreditRecordFactory, UserFactory
from workflow_app.registry import services
from workflow_app.registry.identifiers import resident_id_key

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


def test_the_report_page_shows_the_subject_and_published_records(client, company, samr):
    company.red_list = True
    company.save()
    shown = CreditRecordFactory(
        subject=company, department=samr, under_objection=True, note="说明文字"
    )
    hidden = CreditRecordFactory(subject=company, department=samr, repaired=True)
    response = client.get(f"/report/{company.identifier}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert company.name in html and company.identifier in html
    assert "守信红名单" in html
    assert shown.title in html and hidden.title not in html
    assert "异议处理中" in html and "说明文字" in html
    assert "行政处罚" in html and "失信" in html and "一般" in html
    assert "提出异议" not in html  # anonymous


def test_the_owner_gets_an_objection_link_per_published_record(client, applicant, company, samr):
    record = CreditRecordFactory(subject=company, department=samr)
    marked = CreditRecordFactory(subject=company, department=samr, under_objection=True)
    client.force_login(applicant)
    html = client.get(f"/report/{company.identifier}/").content.decode()
    assert f"/objections/new/?record={record.pk}" in html
    assert f"/objections/new/?record={marked.pk}" not in html


def test_another_applicant_sees_no_objection_link(client, other_applicant, company, samr):
    CreditRecordFactory(subject=company, department=samr)
    client.force_login(other_applicant)
    assert "提出异议" not in client.get(f"/report/{company.identifier}/").content.decode()


def test_a_natural_persons_report_page_is_404_for_others(client, other_applicant):
    services.subject_get_or_create(kind="natural_person", identifier=VALID_ID, name="张三")
    assert client.get(f"/report/{VALID_ID}/").status_code == 404
    client.force_login(other_applicant)
    assert client.get(f"/report/{resident_id_key(VALID_ID)}/").status_code == 404


def test_a_natural_person_sees_their_own_report_masked(client):
    person = services.subject_get_or_create(kind="natural_person", identifier=VALID_ID, name="张三")
    client.force_login(UserFactory(role="applicant", subject=person))
    html = client.get(f"/report/{person.identifier}/").content.decode()
    assert "1101**********002X" in html and VALID_ID not in html


def test_searching_by_code_goes_to_the_report(client, company):
    response = client.post("/report/", {"q": company.identifier.lower()})
    assert response.status_code == 302 and response["Location"] == f"/report/{company.identifier}/"


def test_searching_by_resident_id_keeps_it_out_of_the_url(client):
    person = services.subject_get_or_create(kind="natural_person", identifier=VALID_ID, name="张三")
    client.force_login(UserFactory(role="applicant", subject=person))
    response = client.post("/report/", {"q": VALID_ID})
    assert response.status_code == 302 and VALID_ID not in response["Location"]


def test_searching_with_an_invalid_code_shows_why(client, db):
    response = client.post("/report/", {"q": "91350100M000100Y44"})
    assert response.status_code == 200
    assert "统一社会信用代码校验位错误：第18位应为 3" in response.content.decode()


def test_searching_for_an_unknown_subject_says_so(client, db):
    html = client.post("/report/", {"q": "91350100M000100Y43"}).content.decode()
    assert "未找到该主体的信用信息" in html


def test_an_invalid_identifier_in_the_address_shows_the_search_with_the_reason(client, db):
    response = client.get("/report/91350100M000100Y4/")
    assert response.status_code == 400
    assert "统一社会信用代码应为18位，您输入了17位。" in response.content.decode()


def test_the_search_page_renders(client, db):
    response = client.get("/report/")
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


def test_the_verify_pages_show_whether_a_decision_is_in_force(client, company, supervisor):
    doc = services.decision_issue(
        case_kind="objection",
        case_id=1,
        case_reference="YY-1",
        subject=company,
        record=None,
        title="信用信息异议处理结果",
        decision="confirmed",
        summary="维持。",
        issued_by="市场监督管理局",
    )
    response = client.get("/verify/", {"code": doc.code.lower()})
    assert response.status_code == 302 and response["Location"] == f"/verify/{doc.code}/"
    html = client.get(f"/verify/{doc.code}/").content.decode()
    assert "有效" in html and "YY-1" in html and "维持原信息" in html
    services.decision_revoke(document=doc, reason="虚假材料", by=supervisor)
    html = client.get(f"/verify/{doc.code}/").content.decode()
    assert "已撤销" in html and "虚假材料" in html


def test_an_unknown_code_shows_a_message(client, db):
    response = client.get("/verify/ABCD-EFGH-JKMN-PQRS/")
    assert response.status_code == 404
    assert "未找到该验证码对应的决定文书" in response.content.decode()
    html = client.get("/verify/", {"code": "nope"}).content.decode()
    assert "未找到该验证码对应的决定文书" in html


def test_the_verify_form_renders(client, db):
    assert 'name="code"' in client.get("/verify/").content.decode()


def test_report_rows_escape_every_value_and_show_each_mark(client, applicant, company, samr):
    """A report's rows are rendered in Python (registry.views.report_rows_html): every value
    escaped; the objection and version badges, the content cut to 160 characters, the note,
    the nature's badge, a dash for no severity or no end of publicity; the owner's actions."""
    import datetime

    from django.template.defaultfilters import truncatechars

    record = CreditRecordFactory(
        subject=company,
        department=samr,
        title='<img src=x onerror="alert(1)"> 罚款 & 警告',
        content="未按规定公示年度报告。" * 30,
        note="<b>说明</b>",
        under_objection=True,
        version=2,
        publicity_end=None,
        decision_date=datetime.date(2025, 3, 4),
    )
    plain = CreditRecordFactory(subject=company, department=samr, nature="positive", severity="")
    html = client.get(f"/report/{company.identifier}/").content.decode()
    assert "<img src=x" not in html and "<b>说明</b>" not in html and "{#" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; 罚款 &amp; 警告" in html
    assert (
        "&lt;b&gt;说明&lt;/b&gt;" in html
        and '<span class="badge badge-warn">异议处理中</span>' in html
    )
    assert "已更正 · 第 2 版" in html
    assert truncatechars(record.content, 160) in html and record.content not in html
    assert '<td data-label="决定日期">2025-03-04</td>' in html
    assert '<td data-label="公示截止"><span class="muted">—</span></td>' in html
    assert f'<tr id="record-{plain.pk}">' in html and "badge-ok" in html
    assert '<td data-label="严重程度"><span class="muted">—</span></td>' in html
    assert "row-actions" not in html  # anonymous: no actions column
    client.force_login(applicant)
    owner = client.get(f"/report/{company.identifier}/").content.decode()
    assert 'class="row-actions"' in owner and f"/objections/new/?record={plain.pk}" in owner
