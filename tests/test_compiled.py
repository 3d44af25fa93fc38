"""Reads compiled once (workflow_app/compiled.py): the same SQL, rows and instances as the ORM's
own evaluation of the queryset, and the same refusals."""

from __future__ import annotations

from contextlib import nullcontext as _nothing
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Subquery
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import CaseProcess, CaseTask
from tests.factories import CreditRecordFactory, SubjectFactory
from tests.processes.helpers import file_objection, open_task
from workflow_app.compiled import CompiledQuery
from workflow_app.registry.models import CreditRecord

pytestmark = pytest.mark.django_db

RECORD = CompiledQuery(
    lambda pk: CreditRecord.objects.select_related(
        "subject", "department", "previous_version"
    ).filter(pk=pk)[:2],
    int,
)


def _fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def test_instances_are_the_orms_with_their_select_related_objects_and_a_null_relation():
    older = CreditRecordFactory(subject=SubjectFactory())
    newer = CreditRecordFactory(subject=older.subject, previous_version=older)
    for record in (older, newer, older):  # the second and third calls reuse the plan
        orm = CreditRecord.objects.select_related("subject", "department", "previous_version").get(
            pk=record.pk
        )
        with CaptureQueriesContext(connection) as q:
            got = RECORD.one(record.pk)
            assert _fields(got.subject) == _fields(orm.subject)
            assert _fields(got.department) == _fields(orm.department)
            if orm.previous_version is None:
                assert got.previous_version is None
            else:
                assert _fields(got.previous_version) == _fields(orm.previous_version)
        assert _fields(got) == _fields(orm)
        assert got._state.adding is False and got._state.db == orm._state.db
        assert len(q.captured_queries) == 1  # the relations came with the row


def test_the_sql_is_the_orms_and_the_values_are_parameters():
    record = CreditRecordFactory()
    with CaptureQueriesContext(connection) as orm:
        list(
            CreditRecord.objects.select_related("subject", "department", "previous_version").filter(
                pk=record.pk
            )[:2]
        )
    with CaptureQueriesContext(connection) as compiled:
        RECORD(record.pk)
    assert compiled.captured_queries[0]["sql"] == orm.captured_queries[0]["sql"]


def test_json_and_time_columns_go_through_the_fields_converters(applicant, company):
    case_id = file_objection(applicant, CreditRecordFactory(subject=company))["id"]
    task = open_task(case_id, "objection_intake")
    process_of = CompiledQuery(
        lambda task_id: CaseProcess.objects.filter(
            pk=Subquery(CaseTask.objects.filter(pk=task_id).values("process_id"))
        )[:2],
        int,
    )
    got = process_of.one(task.pk)
    orm = CaseProcess.objects.get(pk=task.process_id)
    assert got.data == orm.data and isinstance(got.data, dict)
    assert got.created == orm.created and got.created.tzinfo is not None


def test_no_row_and_two_rows_are_answered_as_get_answers():
    subject = SubjectFactory()
    by_subject = CompiledQuery(
        lambda subject_id: CreditRecord.objects.filter(subject_id=subject_id).order_by("pk")[:2],
        int,
    )
    with pytest.raises(CreditRecord.DoesNotExist):
        by_subject.one(subject.pk)
    assert by_subject.first(subject.pk) is None
    CreditRecordFactory(subject=subject)
    CreditRecordFactory(subject=subject)
    with pytest.raises(CreditRecord.MultipleObjectsReturned):
        by_subject.one(subject.pk)
    assert by_subject.first(subject.pk).subject_id == subject.pk


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_outside_a_transaction_is_refused_as_the_orm_refuses_it():
    record = CreditRecordFactory()
    orm_refuses = connection.features.has_select_for_update  # SQLite has no row locks
    with pytest.raises(TransactionManagementError) if orm_refuses else _nothing():
        list(CreditRecord.objects.select_for_update().filter(pk=record.pk))
    locked = CompiledQuery(
        lambda pk: CreditRecord.objects.select_for_update().filter(pk=pk)[:2], int
    )
    with pytest.raises(TransactionManagementError) if orm_refuses else _nothing():
        locked.one(record.pk)  # while making its plan
    with transaction.atomic():
        assert locked.one(record.pk).pk == record.pk
    with pytest.raises(TransactionManagementError) if orm_refuses else _nothing():
        locked.one(record.pk)  # with its plan made


def test_a_value_of_the_wrong_type_is_a_value_error_as_in_the_orm():
    with pytest.raises(ValueError):
        RECORD.one("12; DROP TABLE x")
    with pytest.raises(TypeError):
        RECORD.one(1, 2)


def test_a_queryset_that_drops_its_value_is_refused_when_the_plan_is_made():
    CreditRecordFactory()
    ignoring = CompiledQuery(lambda pk: CreditRecord.objects.all()[:2], int)
    with pytest.raises(ValueError, match="does not reach the SQL"):
        ignoring(1)
    with pytest.raises(TypeError):
        CompiledQuery(lambda d: CreditRecord.objects.filter(decision_date=d), object)


def test_an_api_token_is_checked_as_drf_checks_it(api, applicant):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=applicant)
    assert api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    wrong = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "认证令牌无效。"
    applicant.is_active = False
    applicant.save(update_fields=["is_active"])
    gone = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert gone.status_code == 401
    assert gone.json()["message"] == "用户未激活或者已删除。"


def test_a_key_beyond_any_column_is_no_row_as_in_the_orm(api, centre_user):
    assert list(CreditRecord.objects.filter(pk=2**70)) == []
    assert RECORD(2**70) == []
    api.force_authenticate(centre_user)
    response = api.post(f"/api/v1/tasks/{2**70}/complete/", {"decision": "accept"}, format="json")
    assert response.status_code == 404


def test_a_bigint_column_value_is_bound_as_the_orm_binds_it():
    """With server-side binding, psycopg's Int8 wraps a bigint lookup's value."""
    from workflow_app.workdays.deadlines import deadlines_for_case
    from workflow_app.workdays.models import Deadline

    orm = list(Deadline.objects.filter(case_kind="objection", case_id=7).order_by("created_at"))
    assert deadlines_for_case("objection", 7) == orm


def test_a_department_caseworkers_token_brings_the_department_in_the_same_read(dept_samr):
    from rest_framework.authtoken.models import Token

    from workflow_app.accounts.authentication import CompiledTokenAuthentication

    token = Token.objects.create(user=dept_samr)
    with CaptureQueriesContext(connection) as q:
        user, _ = CompiledTokenAuthentication().authenticate_credentials(token.key)
        assert user.queues() == ["dept:SAMR"]  # what every queue check of theirs asks
    assert len(q.captured_queries) == 1


def test_a_value_beyond_its_columns_integer_type_is_no_row_not_another_row():
    """psycopg wraps a value in its column's type with server-side binding (Int4 for a 32-bit
    column): 2**32 + 1 would go out as 1. The ORM answers no rows; so does a compiled read."""
    from workflow_app.audit.models import AuditChain

    AuditChain.objects.create(key="objection:1", length=1)
    by_length = CompiledQuery(lambda n: AuditChain.objects.filter(length=n).order_by("pk"), int)
    assert [c.key for c in by_length(1)] == ["objection:1"]
    assert list(AuditChain.objects.filter(length=2**32 + 1)) == []
    assert by_length(2**32 + 1) == []


def test_none_and_querysets_of_other_shapes_are_refused():
    with pytest.raises(TypeError, match="None"):
        RECORD(None)
    values = CompiledQuery(lambda pk: CreditRecord.objects.filter(pk=pk).values("id"), int)
    with pytest.raises(ValueError, match="plain model querysets"):
        values(1)
    prefetching = CompiledQuery(
        lambda pk: CreditRecord.objects.filter(pk=pk).prefetch_related("subject"), int
    )
    with pytest.raises(ValueError, match="plain model querysets"):
        prefetching(1)


def test_plans_live_on_the_connection_they_were_made_for():
    record = CreditRecordFactory()
    RECORD(record.pk)
    from django.db import connections

    assert RECORD in connections["default"].__dict__["_compiled_plans"]


def test_many_keys_are_sent_in_batches_within_the_parameter_limit():
    """Server-side binding caps a PostgreSQL statement at 65,535 parameters; the backend says so,
    and Django splits what it can (in_bulk, bulk writes, cascade deletes) into batches."""
    record = CreditRecordFactory()
    ids = [record.pk, *range(10**9, 10**9 + 70_000)]
    assert list(CreditRecord.objects.in_bulk(ids)) == [record.pk]
    if connection.vendor == "postgresql":
        assert connection.features.max_query_params == 65_535
        assert connection.ops.bulk_batch_size(["a", "b", "c"], range(10**6)) == 21_845


def test_a_date_time_value_is_compared_as_the_orm_compares_it():
    """The policy in force (every filing reads it): a date-time value, a deferred field."""
    from workflow_app.workdays.models import PolicyVersion
    from workflow_app.workdays.policy import _IN_FORCE as in_force

    base = timezone.now().replace(microsecond=0)
    older = PolicyVersion.objects.create(effective_from=base - timedelta(days=2), params={})
    newer = PolicyVersion.objects.create(effective_from=base, params={"a": 1})
    shanghai = ZoneInfo("Asia/Shanghai")
    for at in (
        base - timedelta(days=3),  # before both: no row
        base - timedelta(days=1),
        base - timedelta(microseconds=1),  # one microsecond before the newer one
        base,  # equal: the newer one
        (base + timedelta(hours=1)).astimezone(shanghai),  # another offset, same instant rules
    ):
        orm = list(in_force.build(at))  # the same queryset, evaluated by the ORM
        with CaptureQueriesContext(connection) as q:
            got = in_force(at)
        assert [v.pk for v in got] == [v.pk for v in orm]
        assert [v.params for v in got] == [v.params for v in orm]
        assert len(q.captured_queries) == 1
    assert [v.pk for v in in_force(base - timedelta(days=1))] == [older.pk]
    assert [v.pk for v in in_force(base)] == [newer.pk]
    with pytest.raises(TypeError, match="aware"):
        in_force(base.replace(tzinfo=None))
    with pytest.raises(TypeError, match="aware"):
        in_force("2026-01-01")
    with pytest.raises(TypeError):
        CompiledQuery(lambda d: PolicyVersion.objects.filter(effective_from=d), float)


def test_a_query_without_values_is_compiled_once_too():
    """The enabled synchronisation targets, read on every public record change (sync_enqueue)."""
    from sync.models import SyncTarget

    targets = CompiledQuery(lambda: SyncTarget.objects.filter(enabled=True))
    assert targets() == []
    b = SyncTarget.objects.create(name="乙", url="http://127.0.0.1:9/b", enabled=True)
    SyncTarget.objects.create(name="丙", url="http://127.0.0.1:9/c", enabled=False)
    a = SyncTarget.objects.create(name="甲", url="http://127.0.0.1:9/a", enabled=True)
    with CaptureQueriesContext(connection) as statements:
        got = targets()
    assert len(statements.captured_queries) == 1
    assert got == list(SyncTarget.objects.filter(enabled=True)) == [b, a]  # by name, as the ORM
    with pytest.raises(TypeError):
        targets(1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="any_of is PostgreSQL's")
def test_a_list_of_keys_is_one_json_parameter_compiled_once():
    import orjson

    from workflow_app.registry.bulk import ManyJson

    records = [CreditRecordFactory(subject=SubjectFactory()) for _ in range(3)]
    by_ids = CompiledQuery(
        lambda ids: CreditRecord.objects.filter(pk__any_of=ManyJson(ids)).order_by("pk"), str
    )
    for wanted in ([records[0].pk, records[2].pk], [records[1].pk], []):
        with CaptureQueriesContext(connection) as ctx:
            found = by_ids(orjson.dumps(wanted).decode())
        assert [r.pk for r in found] == sorted(wanted)
        assert len(ctx.captured_queries) == 1
    # the same rows as the ORM's own any_of with the values as a list
    assert [r.pk for r in by_ids(orjson.dumps([r.pk for r in records]).decode())] == [
        r.pk for r in records
    ]


def test_rows_of_a_values_list_and_of_a_union_are_the_orms_tuples():
    from workflow_app.compiled import CompiledRows

    subject = SubjectFactory()
    records = [CreditRecordFactory(subject=subject) for _ in range(3)]
    by_subject = CompiledRows(
        lambda sid: (
            CreditRecord.objects.filter(subject_id=sid).order_by("id").values_list("id", "title")
        ),
        int,
    )
    with CaptureQueriesContext(connection) as ctx:
        assert by_subject(subject.pk) == [(r.pk, r.title) for r in records]
        assert by_subject(subject.pk + 1000) == []
    assert len(ctx.captured_queries) == 2
    if connection.features.supports_slicing_ordering_in_compound:
        two = CompiledRows(
            lambda a, b: (
                CreditRecord.objects.filter(pk=a)
                .values_list("id")
                .union(CreditRecord.objects.filter(pk=b).values_list("id"), all=True)
                .order_by("id")
            ),
            int,
            int,
        )
        assert two(records[2].pk, records[0].pk) == [(records[0].pk,), (records[2].pk,)]
    locking = CompiledRows(
        lambda pk: CreditRecord.objects.select_for_update().filter(pk=pk).values_list("id"), int
    )
    with transaction.atomic(), pytest.raises(ValueError):
        locking(records[0].pk)
