from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("信用承诺")

    def ready(self) -> None:
        from workflow_app.cases.hooks import register_report_section

        from . import messages, notifications  # noqa: F401  (register codes and texts)
        from .selectors import credit_checks_section, report_section

        register_report_section(report_section)
        register_report_section(credit_checks_section)
