"""Users, their role, and the link of a user to a subject (applicants) or a department."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    CENTRE = "centre", _("信用中心经办人")
    DEPARTMENT = "department", _("信源单位经办人")
    SUPERVISOR = "supervisor", _("主管")
    ADMIN = "admin", _("管理员")


STAFF_ROLES = (Role.CENTRE, Role.DEPARTMENT, Role.SUPERVISOR, Role.ADMIN)

# Queue (task group) codes. A department's queue is "dept:<CODE>".
QUEUE_CENTRE = "centre"
QUEUE_SUPERVISORS = "supervisors"


def department_queue(code: str) -> str:
    return f"dept:{code}"


class User(AbstractUser):  # type: ignore[django-manager-missing]
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    subject = models.ForeignKey(
        "registry.Subject",
        verbose_name=_("所属主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("申请人代表的企业或本人"),
    )
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    language = models.CharField(_("通知语言"), max_length=10, default="zh-hans")
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_applicant(self) -> bool:
        return self.role == Role.APPLICANT

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    def queues(self) -> list[str]:
        """The task groups whose unclaimed tasks this user may claim."""
        if self.role == Role.CENTRE:
            return [QUEUE_CENTRE]
        if self.role == Role.DEPARTMENT and self.department is not None:
            return [department_queue(self.department.code)]
        if self.role in (Role.SUPERVISOR, Role.ADMIN):
            return [QUEUE_SUPERVISORS]
        return []
