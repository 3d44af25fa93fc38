from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("任务队列")

    def ready(self) -> None:
        from workflow_app.workdays.deadlines import on_recomputed

        from .services import tasks_sync_due_dates

        on_recomputed(tasks_sync_due_dates)
