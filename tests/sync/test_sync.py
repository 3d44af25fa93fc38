"""Result synchronisation to other platforms: one outbox row per enabled target in the change's
transaction, delivered with an idempotency key, retried, escalated once when overdue — checked
against a real HTTP receiver on 127.0.0.1 that fails first."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Delivery, Notification
from sync.models import SyncEvent, SyncTarget
from sync.services import sync_deliver, sync_sweep
from sync.tasks import deliver_sync_events
from tests.conftest import as_user
from tests.factories import CreditRecordFactory, SubjectFactory, make_uscc
from workflow_app.registry import services as registry

pytestmark = pytest.mark.django_db


class Receiver:
    """A platform that answers 500 to its first request, then 200, and de-duplicates by key."""

    def __init__(self, fail_first: int = 1) -> None:
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append(
                    {
                        "key": self.headers["Idempotency-Key"],
                        "auth": self.headers["Authorization"],
                        "body": body,
                    }
                )
                if len(receiver.requests) <= receiver.fail_first:
                    self.send_response(500)
                else:
                    receiver.accepted.setdefault(self.headers["Idempotency-Key"], body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_each_change_arrives_exactly_once(settings, django_capture_on_commit_callbacks, supervisor):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with Receiver(fail_first=1) as receiver:
        target = SyncTarget.objects.create(name="省平台", url=receiver.url, token="s3cret")
        SyncTarget.objects.create(name="停用平台", url="http://127.0.0.1:9/x", enabled=False)
        record = CreditRecordFactory()
        with django_capture_on_commit_callbacks(execute=True):
            registry.record_set_status(
                record=record,
                status="repaired",
                by=supervisor,
                reason="test",
                case={"kind": "repair", "id": 7, "reference": "XF20260000007"},
            )
        row = SyncEvent.objects.get()  # only the enabled target
        assert row.target == target and row.event == "record.repaired"
        assert row.status == "pending" and row.attempts == 1 and "500" in row.last_error
        # retried later: by the sweep, twice (the second finds nothing to do)
        later = timezone.now() + datetime.timedelta(hours=2)
        sync_sweep(later)
        sync_sweep(later)
        assert sync_deliver(row.pk, now=later) == "delivered"  # running again changes nothing
        row.refresh_from_db()
        assert row.status == "delivered" and row.attempts == 2 and row.delivered_at
        assert len(receiver.accepted) == 1
        assert [r["key"] for r in receiver.requests] == [row.idempotency_key] * 2
        assert receiver.requests[0]["auth"] == "Bearer s3cret"
        body = receiver.accepted[row.idempotency_key]
        assert body["event"] == "record.repaired" and body["event_id"] == row.idempotency_key
        assert body["record"]["id"] == record.pk and body["record"]["status"] == "repaired"
        assert body["record"]["subject"]["identifier"] == record.subject.identifier
        assert body["case"]["reference"] == "XF20260000007"


def test_no_enabled_target_writes_nothing():
    SyncTarget.objects.create(name="停用", url="http://127.0.0.1:9/x", enabled=False)
    registry.record_set_status(record=CreditRecordFactory(), status="deleted", by=None, reason="t")
    assert not SyncEvent.objects.exists()


def test_natural_person_identifier_is_masked():
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    person = SubjectFactory(natural=True)
    record = CreditRecordFactory(subject=person)
    registry.record_set_status(record=record, status="repaired", by=None, reason="t")
    body = SyncEvent.objects.get().payload
    assert body["record"]["subject"]["identifier"] == person.identifier_display
    assert "*" in body["record"]["subject"]["identifier"]


def test_overdue_rows_are_escalated_once(supervisor):
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    registry.record_set_status(record=CreditRecordFactory(), status="repaired", by=None, reason="t")
    row = SyncEvent.objects.get()
    far = row.due_at + datetime.timedelta(days=1)
    SyncEvent.objects.filter(pk=row.pk).update(next_attempt_at=far + datetime.timedelta(days=1))
    assert sync_sweep(far)["sync_escalated"] == 1
    assert sync_sweep(far)["sync_escalated"] == 0
    assert Delivery.objects.filter(event="sync.overdue", recipient=supervisor).count() >= 1
    row.refresh_from_db()
    assert row.escalated_at is not None


def test_an_outage_is_one_alert_per_target_not_one_per_record(supervisor):
    """Rows overdue at one target are escalated in one notification with their count (an
    outage after a big import would otherwise send each supervisor an e-mail per record); a
    target with one overdue row gets that row's own notification; each row once."""
    from notifications.services import deliver
    from workflow_app.registry.models import CreditRecord

    supervisor.email = "boss@example.com"
    supervisor.save()
    down = SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    records = [CreditRecordFactory() for _ in range(4)]
    for record in records:
        registry.record_set_status(record=record, status="repaired", by=None, reason="t")
    SyncTarget.objects.create(name="市平台", url="http://127.0.0.1:9/y")
    registry.record_set_status(
        record=CreditRecord.objects.get(pk=records[0].pk), status="deleted", by=None, reason="t"
    )
    SyncEvent.objects.filter(pk__in=SyncEvent.objects.filter(target=down)).update(
        last_error="HTTP 503"
    )
    assert SyncEvent.objects.filter(target=down).count() == 5
    far = SyncEvent.objects.order_by("-due_at").first().due_at + datetime.timedelta(days=1)
    SyncEvent.objects.update(next_attempt_at=far + datetime.timedelta(days=1))
    assert sync_sweep(far)["sync_escalated"] == 6
    assert sync_sweep(far)["sync_escalated"] == 0
    assert not SyncEvent.objects.filter(escalated_at__isnull=True).exists()
    mine = Delivery.objects.filter(recipient=supervisor)
    assert sorted(mine.values_list("event", "channel")) == [
        ("sync.overdue", "email"),
        ("sync.overdue", "inapp"),
        ("sync.overdue_many", "email"),
        ("sync.overdue_many", "inapp"),
    ]
    for pk in mine.values_list("id", flat=True):
        assert deliver(pk) == "sent"
    many = Notification.objects.get(recipient=supervisor, event="sync.overdue_many")
    assert many.title == "结果同步逾期：5 条未同步到 省平台"
    assert "HTTP 503" in many.body and many.url == "/dashboard/sync/"
    single = Notification.objects.get(recipient=supervisor, event="sync.overdue")
    assert "市平台" in single.body and single.case_kind == ""


def test_objection_modified_and_repair_approved_are_synchronised(
    applicant, company, samr, centre_user, dept_samr
):
    from tests.processes.helpers import complete, file_objection, file_repair, open_task

    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    record = CreditRecordFactory(subject=company, department=samr)
    oid = file_objection(applicant, record)["id"]
    complete(centre_user, open_task(oid, "objection_intake"), decision="accept")
    complete(centre_user, open_task(oid, "objection_platform_check"), decision="forward")
    complete(
        dept_samr,
        open_task(oid, "objection_verification"),
        decision="resolve",
        outcome="modified",
        content="罚款3000元",
        reason="核实更正",
    )
    corrected = SyncEvent.objects.get(event="record.corrected")
    assert corrected.case_kind == "objection" and corrected.payload["record"]["version"] == 2
    other = CreditRecordFactory(subject=company, department=samr)
    rid = file_repair(applicant, other)["id"]
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    complete(dept_samr, open_task(rid, "repair_decision"), decision="approve")
    repaired = SyncEvent.objects.get(event="record.repaired")
    assert repaired.case_id == rid and repaired.payload["case"]["decision_code"]


def _pushed(n: int) -> dict:
    return {
        "external_id": f"SAMR-SYNC-{n}",
        "subject": {"kind": "legal_person", "identifier": make_uscc(700 + n % 40), "name": "企业"},
        "category": "licence",
        "nature": "positive",
        "title": f"行政许可 第{n}号",
        "content": "食品经营许可",
        "decision_date": "2025-01-02",
    }


@pytest.mark.parametrize("n", [3, 250])
def test_an_import_reads_subjects_once_and_queues_its_rows_in_chunks(
    n, dept_samr, monkeypatch, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """A department's batch with a target enabled: the statements do not grow with the batch
    (the subjects of the new rows are read in one query, not one per record), and the rows go
    to the workers 100 per message (one message per row made a 5,000-record import publish
    5,000 messages)."""
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    monkeypatch.setattr("sync.services.WRITE_CHUNK", 100)  # 250 records: written in 3 slices
    messages: list[list[int]] = []
    monkeypatch.setattr(
        deliver_sync_events, "apply_async", lambda args, **kw: messages.append(list(args[0]))
    )
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(30):
        response = as_user(APIClient(), dept_samr).post(
            "/api/v1/records/", [_pushed(i) for i in range(n)], format="json"
        )
    assert response.status_code == 201
    rows = SyncEvent.objects.order_by("id")
    assert rows.count() == n
    assert [len(m) for m in messages] == [100] * (n // 100) + ([n % 100] if n % 100 else [])
    assert [i for m in messages for i in m] == list(rows.values_list("id", flat=True))
    first = rows.first().payload
    assert first["event"] == "record.created"
    assert first["record"]["subject"] == {
        "kind": "legal_person",
        "identifier": make_uscc(700),
        "name": "企业",
    }


def test_one_message_delivers_each_of_its_rows(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with Receiver(fail_first=1) as receiver:
        SyncTarget.objects.create(name="省平台", url=receiver.url)
        for record in CreditRecordFactory.create_batch(3):
            registry.record_set_status(record=record, status="deleted", by=None, reason="t")
        ids = list(SyncEvent.objects.values_list("id", flat=True))
        # the first row's call fails (500) and waits for its retry; the others are delivered
        assert deliver_sync_events(ids) == 2
        calls = len(receiver.requests)
        deliver_sync_events(ids)  # the message again (a redelivery): changes nothing
        assert len(receiver.requests) == calls
        statuses = sorted(SyncEvent.objects.values_list("status", flat=True))
        assert statuses == ["delivered", "delivered", "pending"]
        assert len(receiver.accepted) == 2


def test_a_row_that_raises_does_not_stop_the_others_of_its_message(monkeypatch, caplog):
    import sync.services

    monkeypatch.setattr(sync.services, "_post", lambda target, key, payload: 200)
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    for record in CreditRecordFactory.create_batch(3):
        registry.record_set_status(record=record, status="deleted", by=None, reason="t")
    ids = sorted(SyncEvent.objects.values_list("id", flat=True))
    real = sync.services.sync_deliver

    def deliver(pk, **kwargs):
        if pk == ids[0]:
            raise RuntimeError("database went away")
        return real(pk, **kwargs)

    monkeypatch.setattr(sync.services, "sync_deliver", deliver)
    assert deliver_sync_events(ids) == 2
    statuses = dict(SyncEvent.objects.values_list("id", "status"))
    assert statuses == {ids[0]: "pending", ids[1]: "delivered", ids[2]: "delivered"}
    assert "could not be delivered now" in caplog.text


def test_each_enabled_target_gets_its_own_row_of_every_record(
    monkeypatch, django_capture_on_commit_callbacks
):
    """Two targets, records written in slices: one row per (record, target), with one event id
    per record shared by its targets, and every row's id queued."""
    first = SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/a")
    second = SyncTarget.objects.create(name="国家平台", url="http://127.0.0.1:9/b")
    monkeypatch.setattr("sync.services.WRITE_CHUNK", 3)
    queued: list[int] = []
    monkeypatch.setattr(
        deliver_sync_events, "apply_async", lambda args, **kw: queued.extend(args[0])
    )
    records = CreditRecordFactory.create_batch(7)
    from sync.services import sync_enqueue

    with django_capture_on_commit_callbacks(execute=True):
        assert sync_enqueue(records=records, change="created") == 14
    rows = SyncEvent.objects.all()
    assert sorted(queued) == sorted(rows.values_list("id", flat=True))
    for record in records:
        mine = rows.filter(record_id=record.pk)
        assert {r.target_id for r in mine} == {first.pk, second.pk}
        assert len({r.idempotency_key for r in mine}) == 1


def test_the_overdue_list_names_the_record_and_the_case_of_each_row(
    client,
    supervisor,
    applicant,
    company,
    samr,
    centre_user,
    dept_samr,
    django_assert_max_num_queries,
):
    """A supervisor chasing an outage sees which record (title, subject, department) and which
    case each overdue row is about, the case linked; the page reads the same few rows for 3
    rows as for 1 (all it shows comes from the rows' payloads)."""
    from django.urls import reverse

    from tests.processes.helpers import complete, file_repair, open_task

    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    pushed = CreditRecordFactory(subject=company, department=samr, title="行政许可 第1号")
    registry.record_set_status(record=pushed, status="repaired", by=None, reason="t")
    record = CreditRecordFactory(subject=company, department=samr, title="行政处罚 第9号")
    rid = file_repair(applicant, record)["id"]
    complete(centre_user, open_task(rid, "repair_intake"), decision="route")
    complete(dept_samr, open_task(rid, "repair_decision"), decision="approve")
    repaired = SyncEvent.objects.get(event="record.repaired", case_id=rid)
    past = timezone.now() - datetime.timedelta(hours=1)
    SyncEvent.objects.update(due_at=past)
    client.force_login(supervisor)
    url = reverse("dashboard-sync")
    with django_assert_max_num_queries(12) as few:
        page = client.get(url).content.decode()
    reference = repaired.payload["case"]["reference"]
    assert "行政处罚 第9号" in page and "行政许可 第1号" in page
    assert company.name in page and "市场监督管理局" in page and record.external_id in page
    assert f'href="/repairs/{rid}/"' in page and reference in page
    assert "记录变更" in page  # the row of a record change without a case
    named = '{}<div class="small muted mono">record.repaired</div>'  # named, its code beside
    assert named.format("信用修复") in page
    for _ in range(2):
        registry.record_set_status(
            record=CreditRecordFactory(subject=company, department=samr),
            status="repaired",
            by=None,
            reason="t",
        )
    SyncEvent.objects.update(due_at=past)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).content.decode().count('data-label="信用记录"') == 4
    client.cookies["django_language"] = "en"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Record change" in english and named.format("Credit repair") in english


def test_a_department_sees_its_own_undelivered_rows_from_the_row_itself(
    client, samr, emb, dept_samr, supervisor
):
    """Each row carries its record's department when written; a department's dashboard figures
    and overdue list count its own rows by it (a row without one, from before the column, by its
    record)."""
    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    for dept, n in ((samr, 2), (emb, 3)):
        for _ in range(n):
            registry.record_set_status(
                record=CreditRecordFactory(department=dept), status="repaired", by=None, reason="t"
            )
    assert sorted(SyncEvent.objects.values_list("department__code", flat=True)) == [
        "EMB",
        "EMB",
        "EMB",
        "SAMR",
        "SAMR",
    ]
    SyncEvent.objects.update(due_at=timezone.now() - datetime.timedelta(hours=1))
    mine = as_user(APIClient(), dept_samr).get("/api/v1/dashboard/").json()["sync"]
    assert (mine["undelivered"], mine["overdue"]) == (2, 2)
    everyone = as_user(APIClient(), supervisor).get("/api/v1/dashboard/").json()["sync"]
    assert (everyone["undelivered"], everyone["overdue"]) == (5, 5)
    client.force_login(supervisor)
    page = client.get("/dashboard/sync/", {"department": "EMB"}).content.decode()
    assert page.count('data-label="信用记录"') == 3
    # a row written by a process still running the code before the column (an upgrade) has no
    # department: its record's is used
    SyncEvent.objects.filter(pk=SyncEvent.objects.filter(department=samr).first().pk).update(
        department=None
    )
    mine = as_user(APIClient(), dept_samr).get("/api/v1/dashboard/").json()["sync"]
    assert (mine["undelivered"], mine["overdue"]) == (2, 2)
    page = client.get("/dashboard/sync/", {"department": "SAMR"}).content.decode()
    assert page.count('data-label="信用记录"') == 2


def test_a_long_oversight_list_counts_no_further_than_its_cap(monkeypatch, client, supervisor):
    """The lists behind the dashboard figures count at most their cap (as the case lists): a
    long outage's overdue list says "more than" instead of counting every row."""
    from oversight import views

    SyncTarget.objects.create(name="省平台", url="http://127.0.0.1:9/x")
    for _ in range(4):
        registry.record_set_status(
            record=CreditRecordFactory(), status="repaired", by=None, reason="t"
        )
    SyncEvent.objects.update(due_at=timezone.now() - datetime.timedelta(hours=1))
    monkeypatch.setattr(views, "LIST_COUNT_CAP", 2)
    original = views._paged
    monkeypatch.setattr(views, "_paged", lambda request, qs, per_page=1: original(request, qs, 1))
    client.force_login(supervisor)
    page = client.get("/dashboard/sync/").content.decode()
    assert "第 1 页，共 2 页以上" in page and 'id="list-capped"' in page
    monkeypatch.setattr(views, "LIST_COUNT_CAP", 10)
    page = client.get("/dashboard/sync/").content.decode()
    assert "第 1 页，共 4 页" in page and "list-capped" not in page
