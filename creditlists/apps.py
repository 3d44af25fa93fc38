from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditlistsConfig(AppConfig):
    name = "creditlists"
    verbose_name = _("红黑名单")
    default_auto_field = "django.db.models.BigAutoField"
