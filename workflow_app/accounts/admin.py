from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import User
from .services import user_validate_links


class _RoleLinksMixin(forms.ModelForm):
    """Apply the same role/subject/department rule as ``services.user_create``."""

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        try:
            user_validate_links(
                role=cleaned.get("role", self.instance.role),
                subject=cleaned.get("subject"),
                department=cleaned.get("department"),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class UserAdminChangeForm(_RoleLinksMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class UserAdminCreationForm(_RoleLinksMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "role", "subject", "department", "email", "phone")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = ("username", "role", "subject", "department", "email", "is_active")
    list_filter = ("role", "department", "is_active", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name", "subject__name", "phone")
    list_select_related = ("subject", "department")
    raw_id_fields = ("subject",)
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("角色与归属"), {"fields": ("role", "subject", "department")}),
        (
            _("联系方式"),
            {"fields": ("first_name", "last_name", "email", "phone", "language")},
        ),
        (
            _("权限"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "role",
                    "subject",
                    "department",
                    "email",
                    "phone",
                ),
            },
        ),
    )
