from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CreditRecordFactory, SubjectFactory, make_uscc
from workflow_app.api import Conflict, ServiceError
from workflow_app.registry import selectors, services
from workflow_app.registry.models import CreditRecord, DecisionDocument, Subject

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


def item(n: int, **overrides) -> dict:
    data = {
        "external_id": f"SAMR-CF-{n:04d}",
        "subject": {"kind": "legal_person", "identifier": make_uscc(1000 + n), "name": f"企业{n}"},
        "category": "penalty",
        "nature": "dishonesty",
        "severity": "general",
        "title": f"行政处罚决定书 第{n}号",
        "content": "罚款人民币5000元。",
        "decision_date": "2025-03-18",
        "publicity_end": "2026-03-18",
    }
    data.update(overrides)
    return data


# --- subjects -----------------------------------------------------------------------------------


def test_a_natural_person_is_stored_without_the_raw_resident_id(dept_samr):
    subject = services.subject_get_or_create(
        kind="natural_person", identifier=VALID_ID, name="张三", by=dept_samr
    )
    row = Subject.objects.filter(pk=subject.pk).values().get()
    assert subject.identifier_display == "1101**********002X"
    assert not any(VALID_ID in str(value) for value in row.values())
    history = subject.history.values().get()
    assert not any(VALID_ID in str(value) for value in history.values())


def test_the_same_subject_is_found_again_not_duplicated(dept_samr):
    first = services.subject_get_or_create(
        kind="natural_person", identifier=VALID_ID, name="张三", by=dept_samr
    )
    again = services.subject_get_or_create(
        kind="natural_person", identifier=VALID_ID.lower(), name="张三", by=dept_samr
    )
    assert first.pk == again.pk
    assert selectors.subject_by_identifier(VALID_ID) == first


def test_an_invalid_identifier_is_refused_with_its_reason():
    with pytest.raises(ServiceError) as exc:
        services.subject_get_or_create(
            kind="legal_person", identifier="91350100M000100Y44", name="某公司"
        )
    assert "校验位错误" in exc.value.message


# --- batch import -------------------------------------------------------------------------------


def test_a_valid_batch_creates_published_version_one_records(samr, dept_samr):
    result = services.record_import_batch(department=samr, items=[item(1), item(2)], by=dept_samr)
    assert result["created"] == 2 and result["updated"] == 0
    records = CreditRecord.objects.order_by("id")
    assert [r["external_id"] for r in result["records"]] == ["SAMR-CF-0001", "SAMR-CF-0002"]
    assert [r["id"] for r in result["records"]] == [r.pk for r in records]
    first = records[0]
    assert (first.version, first.status, first.department) == (1, "published", samr)
    assert first.publicity_start == datetime.date(2025, 3, 18)
    assert first.history.get().history_user == dept_samr


def test_one_bad_item_refuses_the_whole_batch_and_names_it(samr, dept_samr):
    bad = item(
        2,
        severity="",
        subject={"kind": "legal_person", "identifier": "91350100M000100Y44", "name": "x"},
    )
    with pytest.raises(ServiceError) as exc:
        services.record_import_batch(department=samr, items=[item(1), bad, item(3)], by=dept_samr)
    assert exc.value.code == "invalid_batch"
    assert exc.value.message == "批次中有 1 条数据有误，整批未导入。"
    fields = {(e["index"], e["external_id"], e["field"]) for e in exc.value.errors}
    assert fields == {(1, "SAMR-CF-0002", "subject.identifier"), (1, "SAMR-CF-0002", "severity")}
    assert CreditRecord.objects.count() == 0
    assert Subject.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"category": "fine"}, "category"),
        ({"nature": "bad"}, "nature"),
        ({"nature": "positive", "category": "honour", "severity": "minor"}, "severity"),
        ({"title": "  "}, "title"),
        ({"decision_date": "18/03/2025"}, "decision_date"),
        ({"publicity_end": "2025-03-17"}, "publicity_end"),
        ({"subject": {"kind": "robot", "identifier": "x", "name": "x"}}, "subject.kind"),
        (
            {
                "subject": {
                    "kind": "natural_person",
                    "identifier": "110105194912310021",
                    "name": "张三",
                }
            },
            "subject.identifier",
        ),
    ],
)
def test_each_rule_names_its_field(samr, dept_samr, overrides, field):
    with pytest.raises(ServiceError) as exc:
        services.record_import_batch(department=samr, items=[item(1, **overrides)], by=dept_samr)
    assert field in {e["field"] for e in exc.value.errors}
    assert all(e["message"] for e in exc.value.errors)


def test_a_duplicate_external_id_in_one_batch_is_an_error(samr, dept_samr):
    with pytest.raises(ServiceError) as exc:
        services.record_import_batch(department=samr, items=[item(1), item(1)], by=dept_samr)
    assert exc.value.errors[0]["index"] == 1
    assert "第 1 条重复" in exc.value.errors[0]["message"]


def test_the_same_batch_twice_changes_nothing_the_second_time(samr, dept_samr):
    batch = [item(n) for n in range(1, 4)]
    first = services.record_import_batch(department=samr, items=batch, by=dept_samr)
    second = services.record_import_batch(department=samr, items=batch, by=dept_samr)
    assert (second["created"], second["updated"]) == (0, 0)
    assert second["records"] == first["records"]
    assert CreditRecord.objects.count() == 3


def test_a_changed_item_creates_a_new_version_and_keeps_the_old_one(samr, dept_samr):
    first = services.record_import_batch(department=samr, items=[item(1)], by=dept_samr)
    changed = item(1, title="行政处罚决定书（更正）", content="罚款人民币3000元。")
    result = services.record_import_batch(department=samr, items=[changed, item(2)], by=dept_samr)
    assert (result["created"], result["updated"]) == (1, 1)
    old = CreditRecord.objects.get(pk=first["records"][0]["id"])
    new = CreditRecord.objects.get(pk=result["records"][0]["id"])
    assert old.status == "corrected" and old.content == "罚款人民币5000元。"
    assert (new.version, new.status, new.previous_version) == (2, "published", old)
    assert new.content == "罚款人民币3000元。"
    assert old.history.count() == 2  # created, then replaced
    assert list(selectors.report_records(new.subject)) == [new]
    if connection.vendor != "postgresql":
        return  # simple-history's bulk path (SQLite) stamps each row as save() would
    # the batch's new record and new version share one time, rows and history alike
    added = CreditRecord.objects.get(pk=result["records"][1]["id"])
    assert new.created_at == added.created_at == new.updated_at == added.updated_at
    times = {h.history_date for r in (new, added) for h in r.history.filter(history_type="+")}
    assert times == {new.created_at}


def test_the_same_external_id_in_another_department_is_another_record(
    samr, emb, dept_samr, dept_emb
):
    services.record_import_batch(department=samr, items=[item(1)], by=dept_samr)
    result = services.record_import_batch(department=emb, items=[item(1)], by=dept_emb)
    assert result["created"] == 1


def test_an_existing_subject_is_reused(samr, dept_samr, company):
    data = item(1, subject={"kind": "legal_person", "identifier": company.identifier, "name": "x"})
    services.record_import_batch(department=samr, items=[data], by=dept_samr)
    assert CreditRecord.objects.get().subject == company
    assert Subject.objects.count() == 1


def test_a_change_to_a_record_under_objection_keeps_the_mark_on_the_new_version(samr, dept_samr):
    services.record_import_batch(department=samr, items=[item(1)], by=dept_samr)
    record = CreditRecord.objects.get()
    services.record_set_objection_mark(record=record, marked=True, by=dept_samr, reason="accepted")
    services.record_import_batch(department=samr, items=[item(1, title="新标题")], by=dept_samr)
    new = CreditRecord.objects.get(status="published")
    assert new.under_objection is True
    # the objection, still pointing at the old version, removes the mark from the current one
    services.record_set_objection_mark(record=record, marked=False, by=dept_samr, reason="done")
    new.refresh_from_db()
    assert new.under_objection is False


def test_a_large_batch_imports_in_few_queries(samr, dept_samr, django_assert_max_num_queries):
    batch = [item(n) for n in range(1000)]
    with django_assert_max_num_queries(150):  # bulk, not per row
        result = services.record_import_batch(department=samr, items=batch, by=dept_samr)
    assert result["created"] == 1000
    with django_assert_max_num_queries(20):
        again = services.record_import_batch(department=samr, items=batch, by=dept_samr)
    assert (again["created"], again["updated"]) == (0, 0)


def test_an_empty_batch_is_refused(samr, dept_samr):
    with pytest.raises(ServiceError) as exc:
        services.record_import_batch(department=samr, items=[], by=dept_samr)
    assert exc.value.code == "empty_batch"


# --- single record changes ----------------------------------------------------------------------


def test_new_version_does_not_carry_the_mark_unless_asked(dept_samr):
    record = CreditRecordFactory(under_objection=True)
    new = services.record_new_version(
        record=record, changes={"content": "更正后"}, by=dept_samr, reason="objection resolved"
    )
    record.refresh_from_db()
    assert record.status == "corrected"
    assert (new.version, new.content, new.under_objection) == (2, "更正后", False)
    assert new.title == record.title and new.subject == record.subject
    assert record.history.first().history_change_reason.startswith("objection resolved")


def test_a_replaced_version_cannot_be_corrected_again(dept_samr):
    record = CreditRecordFactory()
    services.record_new_version(record=record, changes={"content": "a"}, by=dept_samr, reason="r")
    with pytest.raises(Conflict):
        services.record_new_version(
            record=record, changes={"content": "b"}, by=dept_samr, reason="r"
        )


def test_status_changes_keep_history_and_refuse_corrected(dept_samr):
    record = CreditRecordFactory(under_objection=True)
    services.record_set_status(record=record, status="deleted", by=dept_samr, reason="objection")
    record.refresh_from_db()
    assert (record.status, record.under_objection) == ("deleted", False)
    assert record.history.first().history_change_reason == "objection"
    with pytest.raises(ServiceError):
        services.record_set_status(record=record, status="corrected", by=dept_samr, reason="x")


def test_a_note_is_set(dept_samr):
    record = CreditRecordFactory()
    services.record_set_note(record=record, note="无法确认", by=dept_samr, reason="objection")
    record.refresh_from_db()
    assert record.note == "无法确认"


# --- decision documents -------------------------------------------------------------------------


def test_a_decision_gets_a_readable_code_that_verifies_in_any_case(company):
    doc = services.decision_issue(
        case_kind="objection",
        case_id=1,
        case_reference="YY-2025-000001",
        subject=company,
        record=None,
        title="信用信息异议处理结果",
        decision="confirmed",
        summary="维持原信息。",
        issued_by="市场监督管理局",
    )
    assert len(doc.code) == 19 and doc.code.count("-") == 3
    assert not set(doc.code.replace("-", "")) & set("IO01L")
    assert selectors.decision_by_code(doc.code.lower().replace("-", " ")) == doc
    assert doc.issued_at <= timezone.now()


def test_a_revoked_decision_says_so_and_cannot_be_revoked_twice(company, supervisor):
    doc = services.decision_issue(
        case_kind="repair",
        case_id=1,
        case_reference="XF-1",
        subject=company,
        record=None,
        title="信用修复决定书",
        decision="approved",
        summary="准予修复。",
        issued_by="市场监督管理局",
    )
    services.decision_revoke(document=doc, reason="提供虚假材料", by=supervisor)
    data = selectors.decision_as_dict(DecisionDocument.objects.get(pk=doc.pk))
    assert (data["status"], data["in_force"], data["revocation_reason"]) == (
        "revoked",
        False,
        "提供虚假材料",
    )
    with pytest.raises(Conflict):
        services.decision_revoke(document=doc, reason="again", by=supervisor)


def test_natural_person_names_are_masked_on_verification(dept_samr):
    person = SubjectFactory(natural=True, name="张三丰")
    doc = services.decision_issue(
        case_kind="objection",
        case_id=2,
        case_reference="YY-2",
        subject=person,
        record=None,
        title="t",
        decision="confirmed",
        summary="s",
        issued_by="x",
    )
    assert selectors.decision_as_dict(doc)["subject"] == "张**"
