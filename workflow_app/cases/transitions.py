"""The transition plumbing every domain service uses (objections, repairs, commitments).

A service of a domain reads::

    with case_transition(Repair, repair.pk, "route", by=by, action=_("转办")) as move:
        ...                                    # effects on other objects, under the same lock
        move.apply(history="routed", msg="repair.routed", params={...}, reason=reason, task=task)

``case_transition`` opens the transaction, locks the case row (``select_for_update``), checks the
transition can run from the current state (409 otherwise) and that ``by`` holds its permission
(403), and hands back the locked copy. ``apply`` runs the model's ``@transition`` (own fields
only), saves with the history user and reason, and appends the hash-chained audit entry with a
message *code* and parameters that readers render in their own language.

A case model provides ``CASE_KIND``, ``reference`` and a protected FSM ``status`` field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from workflow_app.api import Conflict, Forbidden, NotFound
from workflow_app.audit.services import audit_append
from workflow_app.compiled import CompiledQuery
from workflow_app.writes import save_with_history

M = TypeVar("M", bound=models.Model)


# Cases locked within ``cases_locked_here()`` (one request's transaction), by (model, pk): the
# code that runs after the transition in the same transaction (the next task's setup) works on
# the locked, updated copy instead of reading the row again.
_locked: ContextVar[dict[tuple[type, Any], Any] | None] = ContextVar("cases_locked", default=None)


# A case locked ahead of its transition (``case_prelock``), with the relations read with it: the
# transition's own lock takes this copy instead of reading the row a second time — once.
_prelocked: ContextVar[dict[tuple[type, Any], tuple[Any, frozenset[str]]] | None] = ContextVar(
    "cases_prelocked", default=None
)


@contextmanager
def cases_locked_here() -> Iterator[None]:
    """One request's transaction, which any error rolls back whole: cases are locked once, and
    transitions inside need no savepoint of their own."""
    token = _locked.set({})
    pre_token = _prelocked.set({})
    try:
        yield
    finally:
        _prelocked.reset(pre_token)
        _locked.reset(token)


def case_locked(model: type[M], pk: Any) -> M | None:
    """The copy of that case locked in this ``cases_locked_here()`` block, if any."""
    locked = _locked.get()
    return locked.get((model, int(pk))) if locked is not None else None


def case_created_here(case: Any) -> None:
    """A case this transaction has just inserted (no other transaction can see it yet): code later
    in the ``cases_locked_here()`` block (the first task's setup) takes this copy."""
    locked = _locked.get()
    if locked is not None:
        locked[(type(case), case.pk)] = case


def case_prelock(model: type[M], pk: Any, *, related: Sequence[str] = ()) -> M:
    """Lock a case before the service that moves it runs (a task's completion: the handler gets
    the case, its transition locks it): that transition's :func:`lock_case` takes this copy.
    Outside ``cases_locked_here()`` it is a plain :func:`lock_case`."""
    case = lock_case(model, pk, related=related)
    prelocked = _prelocked.get()
    if prelocked is not None:
        prelocked[(model, case.pk)] = (case, frozenset(related))
    return case


_CASE_LOCKED: dict[tuple[type[models.Model], tuple[str, ...]], CompiledQuery[Any]] = {}


def _case_locked_query(model: type[M], related: tuple[str, ...]) -> CompiledQuery[M]:
    """The locking read of ``model`` with ``related``, compiled once (workflow_app/compiled.py)."""
    query = _CASE_LOCKED.get((model, related))
    if query is None:

        def build(pk: int) -> Any:
            qs = model._default_manager.select_for_update(of=("self",))
            return (qs.select_related(*related) if related else qs).filter(pk=pk)[:2]

        query = _CASE_LOCKED[(model, related)] = CompiledQuery(build, int)
    return query


def lock_case(model: type[M], pk: Any, *, related: Sequence[str] = ()) -> M:
    """Re-read a case under a row lock; later code works on the fresh copy."""
    prelocked = _prelocked.get()
    if prelocked:
        held = prelocked.pop((model, pk), None)
        prelocked.clear()  # a prelocked copy serves the next lock only, whichever case it takes
        if held is not None and held[1].issuperset(related):
            return held[0]  # locked just before in this transaction, nothing changed it since
    try:
        case = _case_locked_query(model, tuple(related)).one(pk)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise NotFound(
            _("%(kind)s不存在。") % {"kind": model._meta.verbose_name}  # type: ignore[attr-defined]
        )
    locked = _locked.get()
    if locked is not None:
        locked[(model, case.pk)] = case
    return case


def case_next_id(model: type[models.Model]) -> int:
    """The id the next row of ``model`` takes, reserved before the INSERT: a reference made from
    the id (``YY2026…``) goes in with the row — one write and one history row, never a
    placeholder reference in the history. PostgreSQL: the column's sequence. SQLite: the
    ``AUTOINCREMENT`` counter, read inside the transaction that inserts (SQLite transactions here
    take the write lock when they begin: ``transaction_mode: IMMEDIATE``) — a read, not a
    reservation, so call it once per row and insert that row next. Save the row with
    ``force_insert=True``."""
    table, column = model._meta.db_table, model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [table, column])
        else:
            cursor.execute(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0) + 1",
                [table],
            )
        return int(cursor.fetchone()[0])


def save_case(case: models.Model, *, by: Any, reason: str, **kwargs: Any) -> None:
    case._history_user = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    case._change_reason = reason  # type: ignore[attr-defined]
    save_with_history(case, **kwargs)


def audit_case(
    case: Any,
    *,
    before: str,
    by: Any,
    msg: str,
    params: dict[str, Any] | None = None,
    reason: str = "",
    task: str = "",
    data: dict[str, Any] | None = None,
    event: str = "transition",
) -> None:
    """Append the case's audit entry. ``reason`` is what a person wrote (stored as written);
    ``msg``/``params`` is the system's text, stored as a code and rendered when read."""
    audit_append(
        case_kind=case.CASE_KIND,
        case_id=case.pk,
        event=event,
        from_state=before,
        to_state=case.status if event == "transition" else "",
        actor=by,
        reason=(reason or "").strip(),
        task=task,
        data={"msg": msg, "params": params or {}, **(data or {})},
        new_chain=not before,  # a case's first entry: it was created in this transaction
    )


def check_transition(case: Any, method: Any, by: Any, action: str) -> None:
    """409 when the case is not in a state the transition starts from, 403 when ``by`` may not
    run it (``by=None`` is the system)."""
    kind = case._meta.verbose_name
    if not can_proceed(method):
        raise Conflict(
            _(
                "%(kind)s %(ref)s 当前状态为“%(status)s”，不能%(action)s；"
                "页面可能已过期，请刷新后查看。"
            )
            % {
                "kind": kind,
                "ref": case.reference,
                "status": case.get_status_display(),
                "action": action,
            },
            code="wrong_state",
        )
    if by is not None and not has_transition_perm(method, by):
        raise Forbidden(
            _("您没有权限对%(kind)s %(ref)s 执行“%(action)s”。")
            % {"kind": kind, "ref": case.reference, "action": action}
        )


class CaseMove:
    """A transition in progress on a locked case (see the module docstring)."""

    def __init__(self, case: Any, method_name: str, by: Any) -> None:
        self.case = case
        self.method_name = method_name
        self.by = by
        self.before: str = case.status

    def apply(
        self,
        *,
        history: str,
        msg: str,
        params: dict[str, Any] | None = None,
        reason: str = "",
        task: str = "",
        data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        getattr(self.case, self.method_name)(**kwargs)
        save_case(self.case, by=self.by, reason=history)
        audit_case(
            self.case,
            before=self.before,
            by=self.by,
            msg=msg,
            params=params,
            reason=reason,
            task=task,
            data=data,
        )
        return self.case


@contextmanager
def case_transition(
    model: type[M],
    pk: Any,
    method_name: str,
    *,
    by: Any,
    action: str,
    related: Sequence[str] = (),
    system: bool = False,
) -> Iterator[CaseMove]:
    """Lock, check, and yield a :class:`CaseMove`; everything runs in one transaction.
    ``system=True`` skips the permission check (sweeps act as nobody)."""
    with transaction.atomic(savepoint=_locked.get() is None):
        case = lock_case(model, pk, related=related)
        check_transition(case, getattr(case, method_name), None if system else by, action)
        yield CaseMove(case, method_name, by)


# --- deadlines of a case, from its policy snapshot ------------------------------------------------


def case_policy_value(case: Any, key: str) -> Any:
    """The parameter in force when the case was filed; the current one for rows made without a
    snapshot (bulk-loaded data)."""
    params = (case.policy_snapshot or {}).get("params") or {}
    if key in params:
        return params[key]
    from workflow_app.workdays.policy import current_policy

    return current_policy()[1][key]


def case_deadline_open(
    case: Any,
    kind: str,
    *,
    days_key: str,
    start_at: Any,
    queue: str,
    assignee: Any = None,
    unit: str = "working_days",
    closing: tuple[list[str] | None, str] | None = None,
) -> Any:
    """Open a deadline of the case whose length comes from the policy the case was filed
    under (later policy changes never move it). ``closing=(kinds, status)``: first close the
    case's open deadlines of those kinds (``None``: all), as :func:`case_deadlines_close`."""
    return case_deadlines_open(
        case,
        [
            {
                "kind": kind,
                "days_key": days_key,
                "start_at": start_at,
                "queue": queue,
                "assignee": assignee,
                "unit": unit,
            }
        ],
        closing=closing,
    )[0]


def case_deadlines_open(
    case: Any,
    specs: Sequence[dict[str, Any]],
    *,
    closing: tuple[list[str] | None, str] | None = None,
) -> list[Any]:
    """Open several deadlines of the case at once (each ``spec`` takes
    :func:`case_deadline_open`'s keyword arguments): one ``INSERT`` on PostgreSQL, which also
    closes the deadlines ``closing`` names (:func:`case_deadline_open`)."""
    from workflow_app.workdays.deadlines import deadlines_open

    reminder_days = int(case_policy_value(case, "reminder_days_before"))
    department_id = case_department_id(case)
    close = None
    if closing is not None:
        kinds, status = closing
        close = {"case_kind": case.CASE_KIND, "case_id": case.pk, "status": status, "kinds": kinds}
    return deadlines_open(
        [
            {
                "case_kind": case.CASE_KIND,
                "case_id": case.pk,
                "case_reference": case.reference,
                "kind": spec["kind"],
                "start_at": spec["start_at"],
                "amount": int(case_policy_value(case, spec["days_key"])),
                "unit": spec.get("unit", "working_days"),
                "queue": spec["queue"],
                "assignee": spec.get("assignee"),
                "reminder_days": reminder_days,
                "department_id": department_id,
            }
            for spec in specs
        ],
        closing=close,
    )


def case_department_id(case: Any) -> int | None:
    """The department a case is about: its own ``department`` (a commitment's matter department)
    or its credit record's source department."""
    department_id = getattr(case, "department_id", None)
    if department_id is None and getattr(case, "record_id", None) is not None:
        department_id = case.record.department_id
    return department_id


def case_deadlines_close(case: Any, kinds: list[str] | None, status: str = "met") -> int:
    from workflow_app.workdays.deadlines import deadlines_close_for_case

    return deadlines_close_for_case(
        case_kind=case.CASE_KIND, case_id=case.pk, status=status, kinds=kinds
    )


APPLICANT_QUEUE = "applicant"


def case_supplement_deadline_open(
    case: Any, kind: str, *, closing: tuple[list[str] | None, str] | None = None
) -> Any:
    """The applicant's supplement period (policy ``supplement_days``), owed by the applicant:
    it lapses instead of escalating. ``closing``: as :func:`case_deadline_open`'s."""
    from django.utils import timezone

    return case_deadline_open(
        case,
        kind,
        days_key="supplement_days",
        start_at=timezone.now(),
        queue=APPLICANT_QUEUE,
        assignee=case.applicant,
        closing=closing,
    )
