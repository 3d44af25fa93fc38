"""Django's PostgreSQL backend, told PostgreSQL's limit of bind parameters per statement.

With server-side binding (settings: prepared statements) a statement carries at most 65,535
parameters. Django's PostgreSQL backend declares no limit, so a cascade delete or a bulk write of
many rows would send them all in one statement and fail; declared here, Django splits them into
batches the way it does for SQLite (999) and Oracle (65,535).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, features, operations

MAX_PARAMS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = MAX_PARAMS


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        """As Oracle's: as many rows as fit the parameter limit."""
        fields = list(fields)
        return MAX_PARAMS // len(fields) if fields else len(objs)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
