"""What a template node renders the same way every time, kept on the node (the template tags of
workflow_app/translate_tags.py and workflow_app/url_tags.py).

A node of a cached template lives as long as the process; its kept outputs are keyed by what
they depend on (the language, the URL configuration, autoescaping — the caller's key) and by a
generation that a change of those settings (tests' ``override_settings``) or of a compiled
message catalog (the development server) moves on, as Django drops its translation catalogs and
URL caches then. A node keeps one output per key: a handful.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.autoreload import file_changed

_SETTINGS = {
    "LANGUAGES",
    "LANGUAGE_CODE",
    "LOCALE_PATHS",
    "INSTALLED_APPS",
    "ROOT_URLCONF",
    "FORCE_SCRIPT_NAME",
}
_generation = [0]


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        _generation[0] += 1


@receiver(file_changed)
def _catalog_changed(*, file_path: Any, **kwargs: Any) -> None:
    """The development server reloads the translations, not the process, when a compiled
    catalog changes (``django.utils.translation.reloader``): kept texts go with them."""
    if Path(file_path).suffix == ".mo":
        _generation[0] += 1


def generation() -> int:
    return _generation[0]


def kept(node: Any, key: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
    """The node's output for ``key``: made once by ``make``, then the same."""
    outputs: dict[tuple[Hashable, ...], Any] | None = node.__dict__.get("_kept")
    if outputs is None:
        outputs = node._kept = {}
    full = (_generation[0], *key)
    try:
        return outputs[full]
    except KeyError:
        output = outputs[full] = make()
        return output
