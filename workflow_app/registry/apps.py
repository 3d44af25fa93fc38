from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "workflow_app.registry"
    label = "registry"
    verbose_name = _("信用信息登记")

    def ready(self) -> None:
        from workflow_app.cases.messages import register_label_resolver, register_labels

        from .models import Category, Department, Severity

        register_labels("severity", Severity.choices)
        register_labels("category", Category.choices)

        def department_name(code: str) -> str:
            dept = Department.objects.filter(code=code).only("name", "name_en").first()
            return dept.display_name if dept else code

        register_label_resolver("department", department_name)
