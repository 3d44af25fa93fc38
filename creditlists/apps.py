from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditlistsConfig(AppConfig):
    name = "creditlists"
    verbose_name = _("红黑名单")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workflow_app.accounts.demo import register_demo_seeder

        from . import messages  # noqa: F401  (register timeline codes and labels)
        from .services import demo_entries

        register_demo_seeder(demo_entries)
