"""One registry of case kinds: how ``processes`` knows a workflow.

A workflow is a domain app (model, state machine, services, selectors) plus one registration
here (``processes/kinds/<kind>.py``): its flow, how to load, list and show a case, its steps with
their decisions and handlers, its deadline labels, and the application services the portal and
API call (file, supplement, withdraw, lapse). The queue, the task page, ``task_complete``, the
sweeps, the case pages and the case API dispatch through :func:`kind` — there is no
``if kind == …`` anywhere in ``processes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

# handler(case, user, data, task_ref) -> the route the flow takes next ("" = the default branch)
Handler = Callable[[Any, Any, dict[str, Any], str], str]


@dataclass(frozen=True)
class Decision:
    code: str
    label: Any
    handler: Handler
    # extra inputs the decision takes, shown only when it is chosen: "reason", "outcome", "content"
    fields: tuple[str, ...] = ()
    reason_required: bool = False


@dataclass(frozen=True)
class Step:
    code: str
    label: Any
    decisions: dict[str, Decision]
    # a supervisor may take this step's decision (centre steps: escalation handling); department
    # steps stay with the department (谁认定谁修复), a supervisor reassigns within it instead
    supervisors_act: bool = False
    outcomes: Sequence[tuple[str, Any]] = ()


@dataclass
class CaseKind:
    code: str
    label: Any
    model: type[Any]
    url_prefix: str  # "objections" → /objections/<id>/ and /api/v1/objections/<id>/
    flow_path: str  # "processes.flows.ObjectionFlow" (resolved lazily: flows import registry)
    visible_to: Callable[[Any], QuerySet[Any]]
    as_dict: Callable[..., dict[str, Any]]  # as_dict(case, *, viewer=None)
    steps: dict[str, Step]
    deadline_labels: dict[str, Any]
    status_labels: Callable[[], dict[str, Any]]
    detail_template: str  # the kind's own panel on the case and task pages
    # application services (domain service + flow movement, in processes.services)
    submit: Callable[..., Any]
    supplement: Callable[..., Any] | None = None
    withdraw: Callable[..., Any] | None = None
    lapse: Callable[..., Any] | None = None
    add_evidence: Callable[..., Any] | None = None  # add_evidence(case=, by=, files=)
    to_lapse: Callable[[Any], list[int]] | None = None
    is_open: Callable[[Any], bool] = lambda case: True
    needs_supplement: Callable[[Any], bool] = lambda case: False
    page_context: Callable[[Any, Any], dict[str, Any]] = lambda request, case: {}
    # the route the flow takes right after filing ("" = the flow's default)
    initial_route: Callable[[Any], str] = lambda case: ""
    order_by: tuple[str, ...] = ("-filed_at", "-id")
    list_item: Callable[[Any], dict[str, Any]] = lambda case: {
        "id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "record": case.record_id,
        "filed_at": case.filed_at.isoformat(),
    }
    extra: dict[str, Any] = field(default_factory=dict)
    queue_related: tuple[str, ...] = ("subject", "record")
    # the relations the kind's services lock the case with (``case_transition(related=…)``)
    related: tuple[str, ...] = ()
    # case lists: what the search box looks in, and the department a case is about
    search_fields: tuple[str, ...] = ("reference", "subject__name", "subject__identifier_display")
    department_field: str = "record__department__code"
    filed_field: str = "filed_at"  # when the case was filed (signed, for commitments)
    # the case list's "information" column: the first of these that is not empty
    list_title: tuple[str, ...] = ("record__title",)
    # the statuses of a case still in progress (list filter ``status=open``, dashboard counts)
    open_statuses: tuple[str, ...] = ()
    # the queue row's columns, copied onto each task when it is created
    queue_row: Callable[[Any], dict[str, Any]] = lambda case: {
        "subject_name": case.subject.name,
        "record_title": case.record.title if getattr(case, "record", None) else "",
        "department_id": case.record.department_id if getattr(case, "record", None) else None,
    }

    @property
    def flow(self) -> Any:
        from django.utils.module_loading import import_string

        return import_string(self.flow_path)

    def load(self, case_id: Any) -> Any:
        return self.model._default_manager.get(pk=case_id)

    def lock(self, case_id: Any) -> Any:
        """The case under its row lock with the relations its services read: the transition the
        next service runs on it takes this copy instead of reading the row again."""
        from workflow_app.cases.transitions import case_prelock

        return case_prelock(self.model, case_id, related=self.related)

    def step(self, code: str) -> Step | None:
        return self.steps.get(code)

    def status_texts(self) -> Mapping[str, str]:
        """The statuses' labels as text in the active language, made once (rows.texts)."""
        from workflow_app.rows import texts

        return texts(f"{self.code}-status", self.status_labels)

    @property
    def detail_url_name(self) -> str:
        return f"{self.code}-detail"


_KINDS: dict[str, CaseKind] = {}


def register(case_kind: CaseKind) -> CaseKind:
    from notifications.events import register_step

    _KINDS[case_kind.code] = case_kind
    for code, label in step_names(case_kind).items():
        register_step(code, label)
    return case_kind


def step_names(case_kind: CaseKind) -> dict[str, Any]:
    """What reminders and timeline entries call each deadline kind: the step's name where the
    deadline belongs to a step, else the deadline's own label."""
    return {**case_kind.deadline_labels, **{c: s.label for c, s in case_kind.steps.items()}}


def kind(code: str) -> CaseKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"unknown case kind {code!r}") from None


def kinds() -> list[CaseKind]:
    return list(_KINDS.values())


def step_of(kind_code: str, step_code: str) -> Step | None:
    k = _KINDS.get(kind_code)
    return k.step(step_code) if k else None


def step_label(step_code: str) -> Any:
    for k in _KINDS.values():
        if step_code in k.steps:
            return k.steps[step_code].label
    return step_code


def deadline_label(deadline_kind: str) -> Any:
    for k in _KINDS.values():
        if deadline_kind in k.deadline_labels:
            return k.deadline_labels[deadline_kind]
    return deadline_kind


def all_steps() -> dict[str, Any]:
    return {code: s.label for k in _KINDS.values() for code, s in k.steps.items()}
