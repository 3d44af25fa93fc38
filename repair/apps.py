from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairConfig(AppConfig):
    name = "repair"
    verbose_name = _("信用修复")

    def ready(self) -> None:
        from workflow_app.registry.hooks import on_public_change

        from . import messages, notifications  # noqa: F401  (register codes and texts)
        from .notices import repair_notice_on_new_records

        on_public_change(repair_notice_on_new_records)
