"""workflow_app/writes.py: rows written with SQL built once, and an existing row's update (or a
new row with a reserved id) and its history row as one statement on PostgreSQL — leaving exactly
what ``save()`` and simple-history leave."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from tests.factories import CreditRecordFactory
from workflow_app.cases.transitions import case_next_id
from workflow_app.registry.models import CreditRecord
from workflow_app.writes import save_with_history

pytestmark = pytest.mark.django_db

# what differs between two rows saved the same way
_OWN = {"id", "history_id", "history_date", "external_id", "updated_at", "created_at", "title"}


def _change(record: CreditRecord, user, *, reason: str) -> None:
    record.note = "更正：罚款金额 3000 元"
    record.under_objection = True
    record.decision_date = datetime.date(2026, 1, 5)
    record._history_user = user
    record._change_reason = reason


def _row(model, pk) -> dict:
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k not in _OWN}


def _latest_history(record: CreditRecord) -> dict:
    row = record.history.order_by("-history_id").values().first()
    return {k: v for k, v in row.items() if k not in _OWN}


def test_same_row_and_history_as_save(company, samr, centre_user):
    mine, orm = (
        CreditRecordFactory(subject=company, department=samr),
        CreditRecordFactory(subject=company, department=samr),
    )
    before = mine.updated_at
    _change(mine, centre_user, reason="objection accepted")
    _change(orm, centre_user, reason="objection accepted")
    with CaptureQueriesContext(connection) as statements:
        save_with_history(mine)
    orm.save()
    # one statement on PostgreSQL (the update and the history row), save() and its row elsewhere
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    mine.refresh_from_db()
    assert mine.updated_at > before  # auto_now applied, as save() does
    assert _row(CreditRecord, mine.pk) == _row(CreditRecord, orm.pk)
    assert _latest_history(mine) == _latest_history(orm)
    latest = mine.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user_id, latest.history_change_reason) == (
        "~",
        centre_user.pk,
        "objection accepted",
    )
    assert latest.updated_at == mine.updated_at and latest.note == mine.note
    assert mine.history.count() == 2  # created, changed: simple-history wrote no second row


def test_signals_are_sent_as_save_sends_them(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    _change(record, centre_user, reason="signals")
    seen: list[tuple] = []

    def on_pre_save(sender, instance, **kw):
        seen.append(("pre_save", instance.pk, kw["raw"], kw["update_fields"]))

    def on_post_save(sender, instance, created, **kw):
        seen.append(("post_save", instance.pk, created, kw["update_fields"]))

    def on_history(sender, history_instance, **kw):
        seen.append((kw["signal"] is post_create_historical_record, history_instance.note))

    receivers = [
        (signals.pre_save, on_pre_save, CreditRecord),
        (signals.post_save, on_post_save, CreditRecord),
        (pre_create_historical_record, on_history, None),
        (post_create_historical_record, on_history, None),
    ]
    for signal, receiver, sender in receivers:
        signal.connect(receiver, sender=sender)
    try:
        save_with_history(record)
    finally:
        for signal, receiver, sender in receivers:
            signal.disconnect(receiver, sender=sender)
    assert seen == [
        ("pre_save", record.pk, False, None),
        (False, record.note),
        (True, record.note),
        ("post_save", record.pk, False, None),
    ]
    assert not hasattr(record, "skip_history_when_saving")


def test_a_receiver_that_changes_the_history_row_is_heard_as_simple_history_hears_it(
    company, samr, centre_user
):
    """A ``pre_create_historical_record`` receiver may change the history instance before it is
    written (redact a value): then simple-history writes the row, as save() would."""
    mine, orm = (
        CreditRecordFactory(subject=company, department=samr),
        CreditRecordFactory(subject=company, department=samr),
    )
    _change(mine, centre_user, reason="redacted")
    _change(orm, centre_user, reason="redacted")

    def redact(sender, history_instance, **kw):
        history_instance.note = "（已隐去）"

    pre_create_historical_record.connect(redact)
    try:
        save_with_history(mine)
        orm.save()
    finally:
        pre_create_historical_record.disconnect(redact)
    assert mine.history.order_by("-history_id").first().note == "（已隐去）"
    assert _latest_history(mine) == _latest_history(orm)
    assert CreditRecord.objects.get(pk=mine.pk).note == mine.note  # the row itself as saved


@pytest.mark.parametrize("who", ["anonymous", "not a user", "unsaved"])
def test_a_history_user_save_would_refuse_is_refused_as_save_refuses_it(
    company, samr, centre_user, who
):
    from django.contrib.auth.models import AnonymousUser

    from workflow_app.accounts.models import User

    record = CreditRecordFactory(subject=company, department=samr)
    _change(record, centre_user, reason="who")
    user = {"anonymous": AnonymousUser(), "not a user": samr, "unsaved": User(username="x")}[who]
    outcomes = []
    for save in (save_with_history, lambda r: r.save()):
        record._history_user = user
        try:
            with transaction.atomic():
                save(record)
                outcomes.append(record.history.order_by("-history_id").first().history_user_id)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        except (ValueError, TypeError) as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]


def test_column_casts_keep_an_over_long_text_an_error():
    from django.db import models

    from workflow_app.writes import column_casts

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's column types")
    from django.contrib.postgres.fields import ArrayField

    fields = [
        models.CharField(max_length=5),
        models.SlugField(max_length=5),
        models.FileField(max_length=5),
        ArrayField(models.CharField(max_length=3)),
        models.TextField(),
        models.IntegerField(),
        models.DateTimeField(),
        models.JSONField(),
    ]
    assert column_casts(fields, connection) == [
        "text",
        "text",
        "text",
        "text[]",
        "text",
        "integer",
        "timestamp with time zone",
        "jsonb",
    ]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE t_cast (v varchar(5))")
        cursor.execute("INSERT INTO t_cast (v) SELECT CAST(%s AS text)", ["abcdefgh"])


def test_a_row_gone_is_an_error_and_leaves_no_history(company, samr, centre_user):
    if connection.vendor != "postgresql":
        pytest.skip("save() inserts a missing row again; the one-statement path is PostgreSQL's")
    record = CreditRecordFactory(subject=company, department=samr)
    _change(record, centre_user, reason="gone")
    history_rows = CreditRecord.history.count()
    with pytest.raises(DatabaseError, match="no row to save"), transaction.atomic():
        CreditRecord.objects.filter(pk=record.pk).delete()
        save_with_history(record)
    assert CreditRecord.history.count() == history_rows
    # a caller that catches the error: nothing was written, and the transaction is marked for
    # rollback, as save() marks it
    with transaction.atomic():
        CreditRecord.objects.filter(pk=record.pk).delete()
        try:
            save_with_history(record)
        except DatabaseError:
            pass
        assert transaction.get_rollback()
    assert not CreditRecord.history.filter(id=record.pk, history_type="~").exists()


def test_a_new_row_with_a_reserved_id_is_one_statement_too(company, samr, centre_user):
    """What a filing does: the case's id reserved (``case_next_id``), then inserted."""

    def new_row():
        row = CreditRecordFactory.build(subject=company, department=samr, note="新记录")
        row.pk = case_next_id(CreditRecord)  # SQLite: read, not reserved — insert it next
        row._history_user, row._change_reason = centre_user, "filed"
        return row

    mine = new_row()
    with CaptureQueriesContext(connection) as statements:
        save_with_history(mine, force_insert=True)
    orm = new_row()
    orm.save(force_insert=True)
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert not mine._state.adding and mine.created_at is not None  # auto_now_add applied
    assert _row(CreditRecord, mine.pk) == _row(CreditRecord, orm.pk)
    assert _latest_history(mine) == _latest_history(orm)
    entry = mine.history.get()
    assert (entry.history_type, entry.history_user_id, entry.history_change_reason) == (
        "+",
        centre_user.pk,
        "filed",
    )
    assert entry.created_at == mine.created_at


def test_a_new_row_without_an_id_takes_the_databases_id_in_one_statement(
    company, samr, centre_user
):
    """What an evidence file's row does: its id is the database's, and its history row has it."""

    def new_row():
        row = CreditRecordFactory.build(subject=company, department=samr, note="导入")
        row._history_user, row._change_reason = centre_user, "imported"
        return row

    mine, orm = new_row(), new_row()
    with CaptureQueriesContext(connection) as statements:
        save_with_history(mine)
    orm.save()
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert mine.pk is not None and mine.pk != orm.pk and not mine._state.adding
    assert CreditRecord.objects.filter(pk=mine.pk).exists()
    assert _row(CreditRecord, mine.pk) == _row(CreditRecord, orm.pk)
    assert _latest_history(mine) == _latest_history(orm)
    entry = mine.history.get()
    assert (entry.id, entry.history_type, entry.history_user_id) == (mine.pk, "+", centre_user.pk)
    # the same text each time, every value a parameter
    sent: list[str] = []

    def spy(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    rows = [new_row(), new_row()]
    with connection.execute_wrapper(spy):
        for row in rows:
            save_with_history(row)
    assert sent[: len(sent) // 2] == sent[len(sent) // 2 :]
    assert [row.history.get().id for row in rows] == [row.pk for row in rows]


def test_partial_saves_are_save_itself(company, samr, centre_user):
    record = CreditRecordFactory(subject=company, department=samr)
    record._history_user = centre_user
    _change(record, centre_user, reason="note only")
    with CaptureQueriesContext(connection) as statements:
        save_with_history(record, update_fields=["note"])
    assert statements[0]["sql"].startswith('UPDATE "registry_creditrecord" SET "note"')
    assert not CreditRecord.objects.get(pk=record.pk).under_objection  # only the note was saved
    assert record.history.count() == 2


def test_the_statement_is_built_once_and_expressions_go_to_save(company, samr, centre_user):
    first, second = (CreditRecordFactory(subject=company, department=samr) for _ in range(2))
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    for record in (first, second):
        _change(record, centre_user, reason="same shape")
        with connection.execute_wrapper(spy):
            save_with_history(record)
    # the same text each time, every value a parameter: PostgreSQL prepares it after a few runs
    per_save = 1 if connection.vendor == "postgresql" else 2
    assert len(seen) == 2 * per_save and seen[:per_save] == seen[per_save:]
    # an F() expression is the ORM's to compile (save() itself), and simple-history refuses it
    # in a history row, as it does for save()
    first.version = F("version") + 1
    with pytest.raises(ValueError, match="can only be used to update"), transaction.atomic():
        save_with_history(first)


def test_a_row_loaded_in_part_is_save_itself(company, samr, centre_user):
    """``save()`` of an instance with deferred fields writes only the loaded ones."""
    record = CreditRecordFactory(subject=company, department=samr)
    partial = CreditRecord.objects.only("id", "note").get(pk=record.pk)
    partial.note = "只改备注"
    partial._history_user, partial._change_reason = centre_user, "note"
    with CaptureQueriesContext(connection) as statements:
        save_with_history(partial)
    assert statements[0]["sql"].startswith('UPDATE "registry_creditrecord" SET "note"')
    assert CreditRecord.objects.get(pk=record.pk).note == "只改备注"


def _process(case_id: int):
    from processes.flows import ObjectionFlow
    from processes.models import CaseProcess

    return CaseProcess(
        flow_class=ObjectionFlow, case_kind="objection", case_id=case_id, data={"route": ""}
    )


def _process_row(pk) -> dict:
    from processes.models import CaseProcess

    skip = {"id", "case_id", "created", "finished"}
    return {
        k: v for k, v in CaseProcess.objects.filter(pk=pk).values().get().items() if k not in skip
    }


def test_save_row_writes_what_save_writes():
    """A model's own ``save()`` through ``save_row`` (viewflow's process and task rows): a new
    row inserted with its id returned, an existing row updated whole — the same rows as the ORM,
    the same statement text each time, and the save signals."""
    from django.db.models import Model

    from processes.models import CaseProcess

    seen: list[str] = []
    sent: list[tuple] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    def on_save(sender, instance, **kw):
        sent.append((kw["signal"] is signals.post_save, kw.get("created")))

    for signal in (signals.pre_save, signals.post_save):
        signal.connect(on_save, sender=CaseProcess)
    try:
        with connection.execute_wrapper(spy):
            mine, again = _process(10**9), _process(10**9 + 1)
            mine.save()
            again.save()
            mine.status, mine.data = "DONE", {"route": "accept", "note": None}
            mine.save()
    finally:
        for signal in (signals.pre_save, signals.post_save):
            signal.disconnect(on_save, sender=CaseProcess)
    orm = _process(10**9 + 2)
    Model.save(orm)  # the ORM's own
    orm.status, orm.data = "DONE", {"route": "accept", "note": None}
    Model.save(orm)
    assert mine.pk and again.pk and not mine._state.adding
    assert _process_row(mine.pk) == _process_row(orm.pk)
    assert CaseProcess.objects.get(pk=mine.pk).created == mine.created
    assert sent == [(False, None), (True, True)] * 2 + [(False, None), (True, False)]
    if connection.vendor == "postgresql":
        assert len(seen) == 3 and seen[0] == seen[1] and "%s" in seen[2] and "NULL" not in seen[2]


def test_save_row_refuses_a_row_that_is_gone():
    if connection.vendor != "postgresql":
        pytest.skip("save() inserts a missing row again; the SQL built once is PostgreSQL's")
    from processes.models import CaseProcess

    process = _process(10**9 + 3)
    process.save()
    CaseProcess.objects.filter(pk=process.pk).delete()
    process.status = "DONE"
    with pytest.raises(DatabaseError, match="no row to save"):
        process.save()


def test_a_model_with_a_save_of_its_own_is_save_itself(centre_user):
    """``AbstractBaseUser.save`` does more than write (a changed password's hooks)."""
    centre_user.first_name = "新名"
    centre_user._history_user, centre_user._change_reason = None, "renamed"
    with CaptureQueriesContext(connection) as statements:
        save_with_history(centre_user)
    assert statements[0]["sql"].startswith('UPDATE "accounts_user"') and len(statements) == 2
    assert centre_user.history.order_by("-history_id").first().first_name == "新名"


def test_insert_rows_writes_what_bulk_create_writes_in_one_statement(applicant, centre_user):
    from notifications.models import Delivery
    from workflow_app.writes import insert_rows

    def rows(tag):
        return [
            Delivery(
                event_key=f"{tag}:{user.pk}",
                event="objection.accepted",
                recipient=user,
                channel="inapp",
                context={"ref": tag, "金额": 3000, "none": None},
                case_kind="objection",
                case_id=None if user is applicant else 7,
            )
            for user in (applicant, centre_user, applicant)
        ]

    mine, orm = rows("mine"), rows("orm")
    mine[2].channel = orm[2].channel = "email"
    with CaptureQueriesContext(connection) as statements:
        written = insert_rows(mine)
    if connection.vendor != "postgresql":
        assert written is False and len(statements) == 0  # the caller's bulk_create writes them
        return
    Delivery.objects.bulk_create(orm)
    assert written is True and len(statements) == 1
    assert all(r.pk is not None and not r._state.adding for r in mine)
    own = {"id", "event_key", "created_at"}
    for a, b in zip(mine, orm, strict=True):
        got = {
            k: v for k, v in Delivery.objects.filter(pk=a.pk).values().get().items() if k not in own
        }
        want = {
            k: v for k, v in Delivery.objects.filter(pk=b.pk).values().get().items() if k not in own
        }
        assert got == {**want, "context": {**want["context"], "ref": "mine"}}
        assert Delivery.objects.get(pk=a.pk).event_key == a.event_key  # ids in the rows' order
    assert insert_rows([]) is True
    assert insert_rows([Delivery.objects.get(pk=mine[0].pk)]) is False  # a row with an id


def test_a_two_task_insert_is_parsed_once_per_process():
    """psycopg remembers the parsed text of statements of up to CACHED_STATEMENT_PARAMS
    parameters (workflow_app/postgresql): the two task rows a step inserts (54 parameters) are
    scanned for placeholders once, not on every completion."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's statement cache: PostgreSQL only")
    from psycopg import _queries

    from workflow_app.postgresql.base import CACHED_STATEMENT_PARAMS

    assert _queries.MAX_CACHED_STATEMENT_PARAMS == CACHED_STATEMENT_PARAMS  # psycopg reads it
    params = list(range(60))
    sql = "SELECT " + ", ".join(["%s::int"] * len(params))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        before = _queries._query2pg.cache_info()
        cursor.execute(sql, params)
        assert cursor.fetchone() == tuple(params)
    after = _queries._query2pg.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
    # a record import's batch (thousands of parameters) is scanned as before, never cached
    assert len(range(5000)) > _queries.MAX_CACHED_STATEMENT_PARAMS
