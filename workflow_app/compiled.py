"""Hot reads compiled once per database connection (issue 10: speed).

Django turns a queryset into SQL every time it is evaluated: building the query, resolving
``select_related`` joins and compiling every column took more CPU than the database needed to
answer the few row reads every task completion makes (the task and its process under lock, the
case with the relations its services read, the credit record, the audit chain's head, the API
token) — about a fifth of a completion's CPU in the web worker, profiled.

A :class:`CompiledQuery` compiles its queryset once per connection, with marker values in place
of the parameters it is called with; it keeps the SQL, the other parameters, and what the ORM
needs to turn rows into instances (the column layout, the field converters, the
``select_related`` populators). A call substitutes the values, executes, and builds the
instances as Django's ``ModelIterable`` does — the same SQL, the same instances, the same query
in ``connection.queries`` — and, the SQL text being identical each time, PostgreSQL's prepared
statements (``DB_PREPARE_THRESHOLD``) serve it too.

Only for querysets whose SQL does not depend on the values: comparisons with the marker
values (``int``, ``str`` or an aware ``datetime``), fixed limits, no ``__in`` lists (their
placeholder count varies with the list; ``any_of`` with a ``ManyJson`` text takes one). A
queryset whose compiled parameters do not show each marker exactly where it was put is refused
when the plan is made, not answered wrongly. :class:`CompiledRows` does the same for
``values_list()`` querysets and their ``UNION``s, answering plain tuples.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
from django.db.transaction import TransactionManagementError
from psycopg.types.numeric import Int2, Int4, Int8

M = TypeVar("M", bound=Model)

# Placeholders while a plan is made (they never reach the database): within every integer
# column's range (the ORM compiles an out-of-range integer lookup to "no rows" instead of a
# parameter), and unlike the constants a hot query holds.
_INT_MARKER = 2_000_000_017
_STR_MARKER = "\x00compiled-query-marker-{}\x00"
_DATETIME_MARKER = datetime.datetime(1901, 2, 3, 4, 5, 6, 170000, tzinfo=datetime.UTC)
_INT64 = range(-(2**63), 2**63)
# psycopg's integer wrappers (server-side binding) and the values each can carry: a value beyond
# its column's type would be wrapped around, not refused
_RANGES = {Int2: range(-(2**15), 2**15), Int4: range(-(2**31), 2**31), Int8: _INT64}


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    # (position in params, index of the call's value, what turns the value into the parameter:
    # the parameter's type, or the connection's adapter of a date-time value)
    slots: tuple[tuple[int, int, Callable[[Any], Any]], ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    model: type[Model]
    start: int
    end: int
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    for_update: bool


def _coerce(kind: type, value: Any) -> Any:
    if kind is datetime.datetime:
        if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
            raise TypeError("a CompiledQuery date-time value is an aware datetime")
        return value
    return kind(value)


class CompiledQuery(Generic[M]):
    """``build(*values)`` returns the queryset for those values; ``types`` are the values' types
    (``int``, ``str`` or ``datetime.datetime``, aware; none for a query without values).
    ``CompiledQuery(lambda pk: Task.objects.filter(pk=pk)[:2], int)``."""

    def __init__(self, build: Callable[..., QuerySet[M]], *types: type) -> None:
        if any(t not in (int, str, datetime.datetime) for t in types):
            raise TypeError("CompiledQuery values are int, str or datetime")
        self.build = build
        self.types = types
        self._alias: str | None = None
        self._model: Any = None

    def _markers(self) -> list[Any]:
        return [
            _INT_MARKER + i
            if t is int
            else _DATETIME_MARKER + datetime.timedelta(microseconds=i)
            if t is datetime.datetime
            else _STR_MARKER.format(i)
            for i, t in enumerate(self.types)
        ]

    def _sql(
        self, queryset: QuerySet[Any], connection: Any
    ) -> tuple[Any, str, list[Any], list[Any]]:
        """The queryset's compiler, SQL and parameters, and where the call's values go in them."""
        markers = self._markers()
        compiler = queryset.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            raise ValueError("a value's column cannot take the marker (a 16-bit integer?)")
        slots: list[tuple[int, int, Callable[[Any], Any]]] = []
        for index, marker in enumerate(markers):
            # a value may reach the parameters wrapped in its column's type (psycopg's Int8 for
            # a bigint with server-side binding): the call's value is wrapped the same way; a
            # date-time goes through the connection's adapter (SQLite: UTC text)
            if isinstance(marker, datetime.datetime):
                adapt = connection.ops.adapt_datetimefield_value
                expected = adapt(marker)
                found = [
                    (pos, index, adapt)
                    for pos, p in enumerate(params)
                    if type(p) is type(expected) and p == expected
                ]
            else:
                found = [
                    (pos, index, type(p))
                    for pos, p in enumerate(params)
                    if isinstance(p, type(marker)) and p == marker
                ]
            if not found:
                raise ValueError(f"value {index} does not reach the SQL as a parameter: {sql}")
            slots += found
        return compiler, sql, list(params), slots

    def _plan(self, queryset: QuerySet[M], connection: Any) -> _Plan:
        # model querysets only (viewflow's task and process querysets iterate with subclasses of
        # ModelIterable that differ only when coerced to a flow's own classes)
        if (
            not issubclass(queryset._iterable_class, ModelIterable)
            or getattr(queryset, "_coerced", False)
            or getattr(queryset, "_prefetch_related_lookups", ())
            or getattr(queryset, "_known_related_objects", {})
        ):
            raise ValueError("only plain model querysets (no values(), prefetch_related()) compile")
        compiler, sql, params, slots = self._sql(queryset, connection)
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("composite fields are not supported")
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Plan(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            converters=tuple(
                (pos, tuple(convs), expression)
                for pos, (convs, expression) in compiler.get_converters(fields).items()
            ),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
            populators=tuple(
                # Django 5.2's signature (the stubs describe a later one)
                get_related_populators(klass_info, compiler.select, queryset.db)  # type: ignore[call-arg]
            ),
            annotations=tuple((compiler.annotation_col_map or {}).items()),
            # where the database has no row locks (SQLite) the ORM leaves FOR UPDATE out
            for_update=bool(queryset.query.select_for_update)
            and connection.features.has_select_for_update,
        )

    def _execute(self, values: tuple[Any, ...]) -> tuple[Any, Any, list[Any]]:
        """The plan, the connection and the rows the database answered for ``values``."""
        if len(values) != len(self.types):
            raise TypeError(f"{len(self.types)} values expected, {len(values)} given")
        if any(v is None for v in values):
            raise TypeError("CompiledQuery values cannot be None (the ORM would ask IS NULL)")
        values = tuple(_coerce(t, v) for t, v in zip(self.types, values, strict=True))
        if self._alias is None:
            # the database a queryset reads from (for a locking read, the write database) and
            # its model are fixed by the build: learn them once, without compiling
            template = self.build(*self._markers())
            self._alias, self._model = template.db, template.model
        connection = connections[self._alias]
        # plans live on the connection wrapper (one per thread): they go with it, and their
        # converters, bound to its operations, keep nothing else alive
        plans = connection.__dict__.setdefault("_compiled_plans", {})
        plan = plans.get(self)
        if plan is None:
            # compiling a locking read outside a transaction raises, as the ORM does
            plan = plans[self] = self._plan(self.build(*self._markers()), connection)
        elif plan.for_update and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(plan.params)
        for pos, index, wrap in plan.slots:
            value = values[index]
            if type(value) is int and value not in _RANGES.get(wrap, _INT64):
                # beyond the column's integer type: no row, as the ORM answers
                return plan, connection, []
            params[pos] = wrap(value)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            return plan, connection, cursor.fetchall()

    def __call__(self, *values: Any) -> list[M]:
        """The rows for ``values``, as model instances (raises ValueError/TypeError for a value
        that is not of its type, as the ORM's lookups do)."""
        plan, connection, rows = self._execute(values)
        out: list[M] = []
        for row in rows:
            if plan.converters:
                row = list(row)
                for pos, convs, expression in plan.converters:
                    value = row[pos]
                    for converter in convs:
                        value = converter(value, expression, connection)
                    row[pos] = value
            obj = plan.model.from_db(self._alias, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, obj)
            for attr, pos in plan.annotations:
                setattr(obj, attr, row[pos])
            out.append(obj)  # type: ignore[arg-type]
        return out

    def one(self, *values: Any) -> M:
        """Exactly one row, as ``QuerySet.get``: ``DoesNotExist`` or ``MultipleObjectsReturned``
        otherwise (build the queryset with ``[:2]`` so that a second row is seen)."""
        rows = self(*values)
        if len(rows) == 1:
            return rows[0]
        model = self._model
        if not rows:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {model._meta.object_name}"
        )

    def first(self, *values: Any) -> M | None:
        rows = self(*values)
        return rows[0] if rows else None


@dataclass(frozen=True)
class _RowsPlan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int, Callable[[Any], Any]], ...]
    for_update: bool = False


class CompiledRows(CompiledQuery[Any]):
    """A ``values_list()`` queryset — or a ``UNION`` of them — compiled once per connection like
    :class:`CompiledQuery`; a call answers the rows as the database returns them, as tuples,
    with no field converters (for integer and text columns, and date-time columns on
    PostgreSQL)."""

    def _plan(self, queryset: QuerySet[Any], connection: Any) -> Any:
        if queryset.query.select_for_update:
            raise ValueError("CompiledRows reads without locks")
        _compiler, sql, params, slots = self._sql(queryset, connection)
        return _RowsPlan(sql=sql, params=tuple(params), slots=tuple(slots))

    def __call__(self, *values: Any) -> list[Any]:
        return self._execute(values)[2]
