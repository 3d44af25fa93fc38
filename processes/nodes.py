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
  (``writes.insert_rows``; like ``bulk_create``, it sends no ``pre_save``/``post_save`` for
  them — nothing listens to task rows — and their ``task_finished`` / ``flow_started`` are sent
  once the row is written), and a gateway's ``previous`` link with the next task's, in one
  INSERT.

Every caller moves a flow inside its own transaction, holding the process row's lock
(``processes.services``), so none of these nodes opens a savepoint.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
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

from workflow_app.writes import insert_rows


def _new_task(flow_task: Any, prev_activation: Any, token: Any, data: Any, seed: Any) -> Any:
    task = flow_task.flow_class.task_class(
        process=prev_activation.process, flow_task=flow_task, token=token
    )
    task.data = data if data is not None else {}
    task.seed = seed
    return task


def _insert(task: Any) -> None:
    """Insert a new task row — with the rows before it that wait for it (a gateway's, the
    start's: :func:`_wait_for_next`), in one INSERT — then send their signals
    (``task_finished``, a start's ``flow_started``), their rows now written."""
    waiting = getattr(task.process, "_pending_rows", ())
    task.process._pending_rows = []
    if not waiting:
        task.save()
        return
    rows = [row for row, _signals in waiting] + [task]
    for row in rows:  # what CaseTask.save fills in first
        if row.flow_task and not row.flow_task_type:
            row.flow_task_type = row.flow_task.task_type
    if not insert_rows(rows):  # (the ORM's saves elsewhere)
        for row in rows:
            row.save()
    for _row, signals in waiting:
        for signal, kwargs in signals:
            signal.send(**kwargs)


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


def _link(task: Any, previous: Any) -> None:
    """Write the ``previous`` link of a new task row, with the links a gateway before it left
    pending (:meth:`RouteActivation.complete`): one INSERT for the gateway's and the task's."""
    links = [*getattr(task.process, "_pending_links", ()), (task, previous)]
    task.process._pending_links = []
    through = type(task).previous.through
    rows = [through(from_casetask_id=t.pk, to_casetask_id=p.pk) for t, p in links]
    if not insert_rows(rows):  # (SQL built once; the ORM's bulk_create elsewhere)
        through.objects.bulk_create(rows)


class QueueViewActivation(ViewActivation):
    @classmethod
    def create(
        cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None
    ) -> QueueViewActivation:
        task = _new_task(flow_task, prev_activation, token, data, seed)
        activation = cls(task)
        flow_task.flow_class.instance.prepare_task(activation)  # queue columns, before the INSERT
        _insert(task)
        _link(task, prev_activation.task)
        return activation


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
        _insert(self.task)
        if link and self.previous is not None:  # None: revived by viewflow, which links it
            _link(self.task, self.previous)


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
        # the whole row (locked, read whole by the task's lock): its UPDATE built once
        # (CaseProcess.save → writes.save_row) instead of compiled for three columns
        self.process.save()

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
        _insert(task)
        _link(task, prev_activation.task)
        return cls(task)


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
