from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "workflow_app.registry"
    label = "registry"
    verbose_name = _("信用信息登记")
