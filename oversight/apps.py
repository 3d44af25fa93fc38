from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("监督看板")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workflow_app.cases.hooks import register_home_section

        from .selectors import home_section

        register_home_section(home_section)
