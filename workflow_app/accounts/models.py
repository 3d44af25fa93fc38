"""Users, their role, and the link of a user to a subject (applicants) or a department."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from workflow_app.compiled import CompiledQuery


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


class Users(UserManager["User"]):
    """Django's ``UserManager``, with ``get(pk=…)`` — how Django's ``ModelBackend`` reads the
    signed-in user on every request with a session — through a query compiled once
    (workflow_app/compiled.py): building that query was about a tenth of a signed-in page's
    CPU. The same row, the same instance, the same errors; any other ``get`` is the ORM's."""

    def get(self, *args: Any, **kwargs: Any) -> User:
        # only ``User.objects`` itself: a related manager (``department.users``) is a subclass
        # that filters its rows, and another database is the ORM's
        if type(self) is Users and self.model is User and not args and self._db is None:
            key, value = next(iter(kwargs.items())) if len(kwargs) == 1 else ("", None)
            if key in ("pk", "id") and type(value) is int:
                return _USER_BY_ID.one(value)
        return super().get(*args, **kwargs)


class User(AbstractUser):  # type: ignore[django-manager-missing]
    objects: ClassVar[Users] = Users()  # type: ignore[assignment]

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


# Users.get(pk=…): the user by id, compiled once per connection
_USER_BY_ID: CompiledQuery[User] = CompiledQuery(lambda pk: User.objects.filter(pk=pk)[:2], int)
