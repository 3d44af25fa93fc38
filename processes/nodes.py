"""viewflow's nodes, writing each task row once.

viewflow's own nodes save a task, then change and save it again, several inside savepoints: a
View task is inserted, then its ``onCreate`` callback fills the queue columns and saves it a second
time; a Switch task is inserted as NEW, its condition is evaluated in a savepoint, then it is
updated to DONE; an End task likewise, plus a count of the process's other active tasks; a start
inserts the new process, then locks that row — which no other transaction can see yet — in a
savepoint. On a completion that is up to ten statements more than the rows need. These nodes keep
viewflow's engine, statuses, tokens, signals and ``previous`` links — the rows are the same — and
write them once:

* :class:`QueueView` calls the flow's ``prepare_task`` before the task's first save, so the
  queue columns (step, queue, deadline, due date, case columns) go in with the INSERT;
* :class:`Route` chooses its branch in memory (our conditions read ``process.data`` only, never
  the database, so there is nothing a savepoint could undo) and inserts its task already done;
* :class:`Finish` ends the process and inserts its task already done. Our flows are sequences
  (no Split), so when the end is reached no other task of the process is active;
* :class:`CaseStart` starts a flow inside the caller's transaction, without locking the process
  row it has just inserted; :class:`CaseHandle` runs a background step under the process lock its
  caller already holds, without locking it again or reading the task a second time;
* a gateway's or a start's row goes in with the next task's row, in one INSERT
  (``writes.new_rows``; like ``bulk_create``, it sends no ``pre_save``/``post_save`` for
  them — nothing listens to task rows — and their ``task_finished`` / ``flow_started`` are sent
  once the row is written), and a gateway's ``previous`` link with the next task's;
* on PostgreSQL a step's writes are one statement (:func:`_write_step`): the completed task's
  ``UPDATE`` (and the process's, when the flow ends), the new task rows and their ``previous``
  links, as data-modifying ``WITH`` queries — three or four statements of every completion
  before. There a new task row is written without ``pre_save``/``post_save`` even when it is
  the only one (SQLite's one-row path still sends them), and the completed task's
  ``task_finished`` is sent once that statement has run — after the nodes that follow it have
  started (a Finish's ``task_started``). Nothing in this project listens to either.

Every caller moves a flow inside its own transaction, holding the process row's lock
(``processes.services``), so none of these nodes opens a savepoint.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.handle import HandleActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import PROCESS, STATUS

from workflow_app.writes import (
    insert_rows,
    new_rows,
    rows_inserted,
    update_statement,
    update_written,
)

from .models import CaseTask


def _new_task(flow_task: Any, prev_activation: Any, token: Any, data: Any, seed: Any) -> Any:
    task = flow_task.flow_class.task_class(
        process=prev_activation.process, flow_task=flow_task, token=token
    )
    task.data = data if data is not None else {}
    task.seed = seed
    return task


def _pending(process: Any, name: str) -> list[Any]:
    """What earlier nodes of this step left to the next write (and no longer there)."""
    found = getattr(process, name, None) or []
    setattr(process, name, [])
    return found


def _insert(task: Any, previous: Any = None) -> None:
    """Write a new task row and its ``previous`` link — with what the nodes before it left to
    this write: the completed task's (and an ending process's) ``UPDATE``
    (:func:`_update_later`), the rows of a gateway or a start (:func:`_wait_for_next`) and their
    links — in one statement on PostgreSQL (:func:`_write_step`); then send their signals
    (``task_finished``, a start's ``flow_started``), their rows now written."""
    process = task.process
    updates = _pending(process, "_pending_updates")
    waiting = _pending(process, "_pending_rows")
    links = _pending(process, "_pending_links")
    if previous is not None:
        links.append((task, previous))
    rows = [row for row, _signals in waiting] + [task]
    for row in rows:  # what CaseTask.save fills in first
        if row.flow_task and not row.flow_task_type:
            row.flow_task_type = row.flow_task.task_type
    if not _write_step([obj for obj, _signals in updates], rows, links):
        for obj, _signals in updates:
            obj.save()
        if len(rows) == 1:
            task.save()
        elif not insert_rows(rows):  # (the ORM's saves elsewhere)
            for row in rows:
                row.save()
        _link_rows(links)
    for _obj, signals in [*updates, *waiting]:
        for signal, kwargs in signals:
            signal.send(**kwargs)


def _link_rows(links: list[tuple[Any, Any]]) -> None:
    if not links:
        return
    through = links[0][0].previous.through
    rows = [through(from_casetask_id=t.pk, to_casetask_id=p.pk) for t, p in links]
    if not insert_rows(rows):  # (SQL built once; the ORM's bulk_create elsewhere)
        through.objects.bulk_create(rows)


# (database alias, updated models, new rows, links): the step's statement, built once
_STEP_SQL: dict[tuple[str, tuple[type, ...], int, int], str] = {}


def _step_sql(
    connection: Any,
    updates: list[str],
    models: tuple[type, ...],
    rows: int,
    links: int,
    insert: str,
) -> str:
    key = (connection.alias, models, rows, links)
    sql = _STEP_SQL.get(key)
    if sql is not None:
        return sql
    qn = connection.ops.quote_name
    pk, flow_task = qn(CaseTask._meta.pk.column), qn("flow_task")
    parts = [f'"u{i}" AS ({update} RETURNING 1)' for i, update in enumerate(updates)]
    head = insert.rpartition(" RETURNING ")[0]
    parts.append(f'"new" AS ({head} RETURNING {pk}, {flow_task})')
    if links:
        field = CaseTask._meta.get_field("previous")
        through = field.remote_field.through  # type: ignore[union-attr]
        values = ", ".join(["(CAST(%s AS text), CAST(%s AS text), CAST(%s AS bigint))"] * links)
        parts.append(
            f'"links" AS (INSERT INTO {qn(through._meta.db_table)} '
            f"({qn(field.m2m_column_name())}, {qn(field.m2m_reverse_name())}) "  # type: ignore[attr-defined]
            f'SELECT "f".{pk}, COALESCE("t".{pk}, "l"."to_id") '
            f'FROM (VALUES {values}) AS "l" ("from_task", "to_task", "to_id") '
            f'JOIN "new" AS "f" ON "f".{flow_task} = "l"."from_task" '
            f'LEFT JOIN "new" AS "t" ON "t".{flow_task} = "l"."to_task")'
        )
    updated = " + ".join(f'(SELECT count(*) FROM "u{i}")' for i in range(len(updates))) or "0"
    sql = _STEP_SQL[key] = f'WITH {", ".join(parts)} SELECT {pk}, {flow_task}, {updated} FROM "new"'
    return sql


def _write_step(updates: list[Any], rows: list[Any], links: list[tuple[Any, Any]]) -> bool:
    """PostgreSQL: one statement writes a step's rows — the ``UPDATE`` of the completed task
    (and of the process when the flow ends), the ``INSERT`` of the new task rows, and the
    ``INSERT`` of their ``previous`` links, each new row found by its node (``flow_task``: the
    rows of one step are distinct nodes of the flow) — and returns True; False (nothing
    written) where the rows are written one statement at a time."""
    if connection.vendor != "postgresql" or type(rows[0]) is not CaseTask:
        return False
    batch = {id(row) for row in rows}
    if any(id(t) not in batch or (id(p) not in batch and p.pk is None) for t, p in links):
        return False
    insert = new_rows(rows)
    if insert is None:
        return False
    # the column's value (viewflow's reference to the node)
    names = [CaseTask._meta.get_field("flow_task").get_prep_value(row.flow_task) for row in rows]
    if len(set(names)) != len(names):
        return False
    name_of = {id(row): name for row, name in zip(rows, names, strict=True)}
    statements: list[tuple[Any, tuple[str, list[Any]]]] = []
    for obj in updates:
        statement = update_statement(obj)
        if statement is None:
            obj.save()  # (before the rows that follow it, as it would have been)
        else:
            statements.append((obj, statement))
    params: list[Any] = [value for _obj, (_sql, values) in statements for value in values]
    params += insert[1]
    for t, p in links:
        params += [name_of[id(t)], name_of.get(id(p)), None if id(p) in batch else p.pk]
    sql = _step_sql(
        connection,
        [update for _obj, (update, _values) in statements],
        tuple(type(obj) for obj, _statement in statements),
        len(rows),
        len(links),
        insert[0],
    )
    with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.fetchall()
        if len(written) != len(rows) or (written and written[0][2] != len(statements)):
            raise DatabaseError("a completed task or its process is gone: nothing written")
    ids = {name: pk for pk, name, _updated in written}
    rows_inserted(rows, [ids[name] for name in names])
    for obj, _statement in statements:
        update_written(obj)
    return True


def _ours(node: Any) -> bool:
    """Whether ``node`` writes the rows waiting for it (see :func:`_insert`)."""
    return isinstance(node, (QueueView, Finish, CaseHandle, Route))


def _wait_for_next(activation: Any, *signals: tuple[Any, dict[str, Any]]) -> None:
    """Leave ``activation``'s task row, done, to the next node's INSERT; ``signals`` are sent
    once it is written."""
    activation.task.status = STATUS.DONE
    activation.task.finished = now()
    activation.process._pending_rows = [
        *getattr(activation.process, "_pending_rows", ()),
        (activation.task, signals),
    ]


def _update_later(activation: Any) -> None:
    """A human or background step completes: its task row's ``UPDATE`` goes with the next
    node's write (:func:`_insert`) when that node is one of ours — a gateway, which writes or
    leaves its row to the node after it — and its ``task_finished`` once written."""
    activation.task.finished = now()
    finished = (
        task_finished,
        {"sender": activation.flow_class, "process": activation.process, "task": activation.task},
    )
    if not _ours(activation.flow_task._next):
        activation.task.save()
        finished[0].send(**finished[1])
        return
    activation.process._pending_updates = [
        *getattr(activation.process, "_pending_updates", ()),
        (activation.task, (finished,)),
    ]


class QueueViewActivation(ViewActivation):
    @classmethod
    def create(
        cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None
    ) -> QueueViewActivation:
        task = _new_task(flow_task, prev_activation, token, data, seed)
        activation = cls(task)
        flow_task.flow_class.instance.prepare_task(activation)  # queue columns, before the INSERT
        _insert(task, prev_activation.task)
        return activation

    @Activation.status.super()
    def complete(self) -> None:
        assert connection.in_atomic_block  # the caller's transaction holds the process lock
        _update_later(self)


class QueueView(flow.View):
    """A human step whose task row carries its queue columns from its first write."""

    activation_class = QueueViewActivation


class _InsertedDone:
    """An activation whose task row is written once, already done, when it completes."""

    task: Any
    previous: Any = None

    @classmethod
    def create(
        cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None
    ) -> Any:
        activation = cls(_new_task(flow_task, prev_activation, token, data, seed))  # type: ignore[call-arg]
        activation.previous = prev_activation.task  # linked once the row exists
        return activation

    # viewflow keeps activations in sets; an unsaved task has no hash of its own
    def __hash__(self) -> int:
        return hash(self.task) if self.task.pk else id(self)

    def __eq__(self, other: Any) -> bool:
        if type(other) is not type(self):
            return False
        return self.task == other.task if self.task.pk else self is other

    def insert_done(self, *, link: bool = True) -> None:
        self.task.status = STATUS.DONE
        self.task.finished = now()
        # previous None: revived by viewflow, which links it
        _insert(self.task, self.previous if link else None)


class RouteActivation(_InsertedDone, SwitchActivation):
    @Activation.status.super()
    def activate(self) -> None:
        for node, cond in self.flow_task._branches:
            if cond is None or cond(self):
                self.next_task = node
                break
        if not self.next_task:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")

    @Activation.status.super()
    def complete(self) -> None:
        # the node chosen next writes this gateway's link with its own (one INSERT) when it is
        # one of ours; any other node would not, so the link is written here
        defer = self.previous is not None and _ours(self.next_task)
        finished = (
            task_finished,
            {"sender": self.flow_class, "process": self.process, "task": self.task},
        )
        if not defer:
            self.insert_done()
            finished[0].send(**finished[1])
            return
        # the next node inserts this gateway's row with its own task's (one INSERT), then sends
        # this gateway's task_finished, and writes its link with its own
        _wait_for_next(self, finished)
        self.process._pending_links = [
            *getattr(self.process, "_pending_links", ()),
            (self.task, self.previous),
        ]


class Route(flow.Switch):
    """A gateway on the route the last decision returned (``process.data["route"]``)."""

    activation_class = RouteActivation


class FinishActivation(_InsertedDone, EndActivation):
    @Activation.status.super()
    def activate(self) -> None:
        self.task.started = now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.process.status = PROCESS.DONE
        self.process.finished = now()
        # the whole row (locked, read whole by the task's lock): its UPDATE, built once, goes
        # with this node's row (``complete`` next: ``insert_done`` → ``_insert``)
        self.process._pending_updates = [
            *getattr(self.process, "_pending_updates", ()),
            (self.process, ()),
        ]

    @Activation.status.super()
    def complete(self) -> None:
        self.insert_done()
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
        flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class Finish(flow.End):
    """The end of a sequence: the process is done."""

    activation_class = FinishActivation


class CaseHandleActivation(HandleActivation):
    @classmethod
    def create(
        cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None
    ) -> CaseHandleActivation:
        task = _new_task(flow_task, prev_activation, token, data, seed)
        _insert(task, prev_activation.task)
        return cls(task)

    @Activation.status.super()
    def complete(self) -> None:
        assert connection.in_atomic_block  # the caller's transaction holds the process lock
        _update_later(self)


class CaseHandle(flow.Handle):
    """A background step (waiting for supplements, a commitment waiting for a check) that the
    application services complete. viewflow's ``Handle.run`` locks the process row in a savepoint
    and reads the task again; our callers have locked the process row and read the task under
    that lock already (``processes.services._lock_process``), so the step is run as it stands."""

    activation_class = CaseHandleActivation

    def _create_wrapper_function(self, origin_func: Any, task: Any) -> Any:
        def func(**kwargs: Any) -> Any:
            assert connection.in_atomic_block  # the caller's transaction holds the process lock
            activation = self.activation_class(task)
            result = activation.run(origin_func, **kwargs)
            activation.execute()
            return result

        return func


class CaseStartActivation(StartHandleActivation):
    @Activation.status.transition(source=STATUS.NEW)
    def execute(self) -> None:
        assert connection.in_atomic_block  # the caller's transaction: the case and its flow
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.process.save()
        self.complete()
        self.activate_next()

    @Activation.status.super()
    def complete(self) -> None:
        about = {"sender": self.flow_class, "process": self.process, "task": self.task}
        if _ours(self.flow_task._next):
            # the next node inserts the start's row with its own (one INSERT), then sends these
            _wait_for_next(self, (task_finished, about), (flow_started, about))
            return
        self.task.status = STATUS.DONE
        self.task.finished = now()
        self.task.save()
        task_finished.send(**about)
        flow_started.send(**about)


class CaseStart(flow.StartHandle):
    """Start a case's flow in the transaction that files the case."""

    activation_class = CaseStartActivation
