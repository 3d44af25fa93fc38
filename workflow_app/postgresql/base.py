"""Django's PostgreSQL backend with three changes.

* **PostgreSQL's limit of bind parameters per statement.** With server-side binding (settings:
  prepared statements) a statement carries at most 65,535 parameters. Django's PostgreSQL backend
  declares no limit, so a cascade delete or a bulk write of many rows would send them all in one
  statement and fail; declared here, Django splits them into batches the way it does for SQLite
  (999) and Oracle (65,535).
* **The health check of a reused connection costs no round trip.** Django checks a persistent
  connection (``CONN_HEALTH_CHECKS``) with a ``SELECT 1`` before the first query of every
  request — one more round trip on each request, a twentieth of a completion's. A connection
  reused within seconds has nothing to read unless the server ended it: a restart, an idle
  timeout or a terminated backend sends an error message and closes the socket. So the socket is
  polled instead (one system call); only when something is there, or when the connection has
  been idle for more than ``IDLE_CHECK_SECONDS`` (a server gone without closing it leaves nothing
  to read), does the ``SELECT 1`` run — it fails, the connection is closed and the request opens
  a new one, as with Django's check. A host that vanishes while requests keep coming costs each
  worker the request in flight, and its next one (503, then reconnected).
* **psycopg keeps the parsed text of the statements a step writes.** psycopg turns a statement's
  ``%s`` placeholders into ``$1, $2, …`` with a regular-expression scan, and remembers the result
  only for statements of at most 50 parameters (``MAX_CACHED_STATEMENT_PARAMS``: ORMs' bulk
  inserts with a different row count each time would only churn its cache). A step's task rows
  go in two at a time (``writes.insert_rows``: 64 parameters), so that scan ran on every
  completion and filing — 5 % of a web worker's CPU in a profile of ``accept``. The statements
  ``writes`` builds have a fixed text per row count, so statements up to
  ``CACHED_STATEMENT_PARAMS`` parameters are remembered (in psycopg's own LRU cache of 128;
  psycopg still leaves out statements over ``MAX_CACHED_STATEMENT_LENGTH``, 4,096 bytes — the
  two-task ``INSERT`` is about 800); longer ones — the record import's batches — are scanned as
  before.
* **Timestamps are read by psycopg's C loader.** With ``USE_TZ`` Django registers its own
  ``timestamptz`` loader on every connection: a Python subclass of psycopg's pure-Python loader
  that parses the text and then sets the connection's zone — about 7 µs a value where psycopg's
  C loader takes 0.5 (measured: 10,000 rows of three timestamps fetched in 291 ms against 52). A
  queue page reads a few hundred of them, a completion a few dozen, an export hundreds of
  thousands. When the connection's zone is UTC — Django's with ``USE_TZ`` and no database
  ``TIME_ZONE``, set on the session as Django does — psycopg's C loader gives the same values
  (aware, ``datetime.timezone.utc``: psycopg maps the session's ``UTC`` to it), so
  :class:`UtcTimestamptzLoader` hands each value to it; any other zone keeps Django's loader.
"""

from __future__ import annotations

import datetime
import select
import time
from typing import Any

from django.db.backends.postgresql import base, features, operations
from psycopg import _queries as psycopg_queries
from psycopg import adapters
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

MAX_PARAMS = 2**16 - 1

CACHED_STATEMENT_PARAMS = 200
# a module-level setting psycopg reads on every statement (tests/test_writes.py
# test_a_two_task_insert_is_parsed_once_per_process fails if a psycopg release renames it)
if getattr(psycopg_queries, "MAX_CACHED_STATEMENT_PARAMS", 0) < CACHED_STATEMENT_PARAMS:
    psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = CACHED_STATEMENT_PARAMS


# psycopg's own loader of timestamptz text: the C one when psycopg's C module is installed
# (psycopg[binary] or [c]), else its Python one. The C class cannot be subclassed: wrapped.
_PSYCOPG_TIMESTAMPTZ_LOADER: Any = adapters.get_loader(
    adapters.types["timestamptz"].oid, Format.TEXT
)


class UtcTimestamptzLoader(Loader):
    """psycopg's own ``timestamptz`` loader, for a connection whose session zone is UTC. It has
    the ``timezone`` attribute of Django's loader, which Django's ``create_cursor`` compares
    with the connection's before registering a loader of another zone on a cursor."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._load = _PSYCOPG_TIMESTAMPTZ_LOADER(oid, context).load

    def load(self, data: Any) -> Any:
        return self._load(data)


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = MAX_PARAMS


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        """As Oracle's: as many rows as fit the parameter limit."""
        fields = list(fields)
        return MAX_PARAMS // len(fields) if fields else len(objs)


# A connection idle longer than this is checked with the round trip, as Django does: a server
# that vanished without closing it (a crashed or rebooted host, a failover that moved the
# address, a dropped NAT entry) leaves nothing to read, and the first query would fail.
IDLE_CHECK_SECONDS = 5.0


def server_spoke(conn: Any) -> bool:
    """Whether an idle connection is closed or has something to read (the server's goodbye: an
    error message, end of stream, a reset) — without a round trip."""
    if conn.closed or conn.broken or not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        template = params.get("context")
        if template is not None and self.timezone is datetime.UTC:
            # on a copy: Django's template is shared by the connections of a zone (lru_cache)
            context = AdaptersMap(template)
            context.register_loader("timestamptz", UtcTimestamptzLoader)
            params["context"] = context
        return params

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is None
            or not self.health_check_enabled  # type: ignore[attr-defined]
            or self.health_check_done  # type: ignore[has-type]
        ):
            return
        idle = time.monotonic() - getattr(self, "_last_used", 0.0)
        if self.pool is None and (idle > IDLE_CHECK_SECONDS or server_spoke(self.connection)):
            super().close_if_health_check_failed()  # SELECT 1: closes the connection if it fails
        self.health_check_done = True

    def _cursor(self, name: Any = None) -> Any:
        cursor = super()._cursor(name)  # type: ignore[misc]  # checks the connection first
        self._last_used = time.monotonic()
        return cursor
