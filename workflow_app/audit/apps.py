from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "workflow_app.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self) -> None:
        from workflow_app.cases.history import build_history_managers

        build_history_managers()
