"""One registration per case kind; importing this package registers them all, in the order
pages and dashboards list them (the order the workflows appear in SPEC)."""

from . import objection, repair, commitment  # noqa: F401, I001  (the order is the listing order)
