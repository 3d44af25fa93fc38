"""One registration per case kind; importing this package registers them all."""

from . import objection, repair  # noqa: F401
