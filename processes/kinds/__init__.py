"""One registration per case kind; importing this package registers them all."""

from . import commitment, objection, repair  # noqa: F401
