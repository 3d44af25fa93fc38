from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("结果同步")

    def ready(self) -> None:
        from workflow_app.registry.hooks import on_public_change

        from . import notifications  # noqa: F401  (registers the event texts)
        from .services import sync_on_public_change

        on_public_change(sync_on_public_change)
