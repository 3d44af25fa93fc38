"""Changes of what the public may see of a credit record, announced to the layers above.

The kernel never imports the apps that react (synchronisation to other platforms, the repair
notice sent with a new dishonesty record); they register here in their ``AppConfig.ready`` and
are called inside the transaction that made the change, so what they write (outbox rows) commits
or rolls back with it.

``change`` is one of ``created`` (a new record was pushed), ``corrected`` (a new version
replaced it; ``record`` is the new version), ``repaired``, ``published`` (published again, e.g. a
repair was revoked), ``deleted``, ``expired``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PublicChangeListener = Callable[..., Any]
_listeners: list[PublicChangeListener] = []


def on_public_change(callback: PublicChangeListener) -> PublicChangeListener:
    """Register ``callback(*, records, change, case, by)``; ``records`` is a list (a batch import
    announces all its new rows in one call, so listeners can work set-based)."""
    if callback not in _listeners:
        _listeners.append(callback)
    return callback


def public_changed(
    *, records: list[Any], change: str, case: dict[str, Any] | None = None, by: Any = None
) -> None:
    if not records:
        return
    for callback in list(_listeners):
        callback(records=records, change=change, case=case, by=by)
