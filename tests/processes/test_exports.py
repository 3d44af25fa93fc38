"""Case-list exports for staff: the list as filtered, to CSV (streamed) and XLSX, each export
recorded; applicants cannot export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from objections.models import Objection
from processes.models import ExportLog
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory
from tests.processes.helpers import file_objection

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(applicant, company, samr, emb):
    ids = [
        file_objection(applicant, CreditRecordFactory(subject=company, department=samr))["id"]
        for _ in range(3)
    ]
    other = SubjectFactory(name="深圳市另一家示例有限公司")
    other_user = UserFactory(username="other_co", role="applicant", subject=other)
    ids.append(file_objection(other_user, CreditRecordFactory(subject=other, department=emb))["id"])
    # one filed long ago
    Objection.objects.filter(pk=ids[0]).update(
        filed_at=timezone.now() - datetime.timedelta(days=400)
    )
    return ids


def _web(user):
    c = Client()
    c.force_login(user)
    return c


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_of_a_filtered_list_is_streamed_and_recorded(centre_user, cases, company):
    r = _web(centre_user).get("/objections/export.csv?department=SAMR")
    assert r.status_code == 200 and r.streaming
    rows = _csv(r)
    assert rows[0][:3] == ["编号", "状态", "主体名称"]
    assert len(rows) == 1 + 3 and {row[2] for row in rows[1:]} == {company.name}
    assert {row[4] for row in rows[1:]} == {"SAMR"}
    log = ExportLog.objects.get()
    assert (log.user, log.what, log.file_format, log.rows) == (centre_user, "objection", "csv", 3)
    assert log.filters == {"department": "SAMR"}


def test_filing_date_range_and_status_filter_the_export(centre_user, cases):
    today = timezone.localdate().isoformat()
    rows = _csv(_web(centre_user).get(f"/objections/export.csv?filed_from={today}"))
    assert len(rows) == 1 + 3  # the one filed 400 days ago is out
    rows = _csv(_web(centre_user).get("/objections/export.csv?status=withdrawn"))
    assert len(rows) == 1


def test_xlsx_export_opens_and_reads_back(centre_user, cases):
    r = _web(centre_user).get("/objections/export.xlsx?q=另一家")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    values = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert values[0][0] == "编号" and len(values) == 2
    assert values[1][2] == "深圳市另一家示例有限公司"
    assert ExportLog.objects.get().rows == 1


def test_department_caseworkers_export_only_their_cases(dept_samr, cases):
    rows = _csv(_web(dept_samr).get("/objections/export.csv"))
    assert len(rows) == 1 + 3 and {row[4] for row in rows[1:]} == {"SAMR"}


def test_applicants_cannot_export(applicant, cases):
    assert _web(applicant).get("/objections/export.csv").status_code == 404
    assert _web(applicant).get("/objections/").status_code == 200
    assert 'id="export-links"' not in _web(applicant).get("/objections/").content.decode()
    assert not ExportLog.objects.exists()


def test_the_list_page_links_to_the_export_with_its_filter(centre_user, cases):
    page = _web(centre_user).get("/objections/?department=SAMR").content.decode()
    assert "/objections/export.csv?department=SAMR" in page


@pytest.mark.parametrize("prefix", ["objections", "repairs", "commitments"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_case_kind_exports(centre_user, prefix, fmt):
    r = _web(centre_user).get(f"/{prefix}/export.{fmt}?filed_from=2026-01-01&filed_to=2026-12-31")
    assert r.status_code == 200
    assert ExportLog.objects.get().filters == {"filed_from": "2026-01-01", "filed_to": "2026-12-31"}


def test_overdue_filter_keeps_cases_with_a_passed_open_deadline(centre_user, cases):
    from workflow_app.workdays.models import Deadline

    Deadline.objects.filter(case_kind="objection", case_id=cases[1]).update(
        due_at=timezone.now() - datetime.timedelta(days=2)
    )
    rows = _csv(_web(centre_user).get("/objections/export.csv?overdue=1"))
    assert len(rows) == 2
    page = _web(centre_user).get("/objections/?overdue=1").content.decode()
    assert page.count('href="/objections/') >= 1 and "checked" in page
    assert ExportLog.objects.get().filters == {"overdue": "1"}


def test_queue_export_has_every_row_of_the_callers_queue(centre_user, dept_samr, cases):
    rows = _csv(_web(centre_user).get("/queue/export.csv"))
    assert rows[0][:3] == ["编号", "环节", "办理组"]
    assert len(rows) == 1 + 4 and {row[1] for row in rows[1:]} == {"异议受理"}
    rows = _csv(_web(centre_user).get("/queue/export.csv?department=EMB"))
    assert len(rows) == 2
    # a department caseworker's queue holds none of the centre's intake tasks
    assert len(_csv(_web(dept_samr).get("/queue/export.csv"))) == 1
    book = load_workbook(
        io.BytesIO(b"".join(_web(centre_user).get("/queue/export.xlsx").streaming_content)),
        read_only=True,
    )
    assert len(list(book.worksheets[0].iter_rows(values_only=True))) == 5
    logs = list(ExportLog.objects.order_by("at").values_list("what", "rows", "filters"))
    assert logs[1] == ("queue", 1, {"department": "EMB"})


def test_applicants_cannot_export_a_queue(applicant):
    assert _web(applicant).get("/queue/export.csv").status_code in (403, 404)


def test_the_queue_page_links_to_its_export(centre_user, cases):
    page = _web(centre_user).get("/queue/?due=overdue").content.decode()
    assert "/queue/export.csv?due=overdue" in page
