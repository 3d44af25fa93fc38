from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("信用承诺")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as t

        from workflow_app.cases.messages import register_messages

        register_messages(
            {"commitment.repair_activated": t("信用修复（{repair}）获准，修复承诺生效")}
        )
