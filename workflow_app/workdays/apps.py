from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "workflow_app.workdays"
    label = "workdays"
    verbose_name = _("工作日与政策参数")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the calendar coverage check)
