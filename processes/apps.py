from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("任务队列")

    def ready(self) -> None:
        from workflow_app.cases.hooks import register_home_counts, register_report_actions
        from workflow_app.cases.messages import register_labels
        from workflow_app.workdays.deadlines import on_recomputed

        from . import kinds  # noqa: F401  (registers every case kind)
        from .hooks import report_actions
        from .registry import kinds as all_kinds
        from .registry import step_names
        from .selectors import queue_counts_for
        from .tasksetup import tasks_sync_due_dates

        on_recomputed(tasks_sync_due_dates)
        register_report_actions(report_actions)
        register_home_counts(queue_counts_for)
        for k in all_kinds():
            register_labels("step_kind", step_names(k).items())
