from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "objections"
    verbose_name = _("异议处理")

    def ready(self) -> None:
        from . import messages, notifications  # noqa: F401  (register codes and texts)
