"""Writes on users and their API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from workflow_app.api import ServiceError
from workflow_app.registry.models import Department, Subject

from .models import Role, User


def user_validate_links(
    *, role: str, subject: Subject | None, department: Department | None
) -> None:
    """An applicant speaks for one subject; a department caseworker belongs to one department.

    Raises ``ValidationError`` keyed by field, so forms (admin) and services share the rule.
    """
    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = _("未知角色：%(role)s。可选：%(choices)s。") % {
            "role": role,
            "choices": "、".join(Role.values),
        }
    if role == Role.APPLICANT and subject is None:
        errors["subject"] = _("申请人账户必须关联一个信用主体（企业或本人）。")
    if role == Role.DEPARTMENT and department is None:
        errors["department"] = _("信源单位经办人账户必须选择所属部门。")
    if role != Role.APPLICANT and subject is not None:
        errors["subject"] = _("只有申请人账户可以关联信用主体，请清空“所属主体”。")
    if role != Role.DEPARTMENT and department is not None:
        errors["department"] = _("只有信源单位经办人账户可以选择所属部门，请清空“所属部门”。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    subject: Subject | None = None,
    department: Department | None = None,
    email: str = "",
    phone: str = "",
    by: Any = None,
    reason: str = "",
) -> User:
    """Create a user with a role and its link to a subject or department.

    Raises ``ServiceError`` with per-field ``errors`` when the role and links do not fit or the
    username is taken.
    """
    username = (username or "").strip()
    if not username:
        raise ServiceError(
            _("请填写用户名。"), errors=[{"field": "username", "message": _("必填")}]
        )
    try:
        user_validate_links(role=role, subject=subject, department=department)
    except ValidationError as exc:
        errors = [
            {"field": field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        raise ServiceError("; ".join(e["message"] for e in errors), errors=errors) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(
            _("用户名“%(username)s”已被使用，请换一个。") % {"username": username},
            code="duplicate",
            errors=[{"field": "username", "message": _("已被使用")}],
        )
    user = User(
        username=username,
        role=role,
        subject=subject,
        department=department,
        email=email,
        phone=phone,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user._change_reason = reason or _("创建用户")  # type: ignore[attr-defined]
    if by is not None:
        user._history_user = by  # type: ignore[attr-defined]
    user.save()
    return user


def auth_token_obtain(*, username: str, password: str, request: Any = None) -> str:
    """Check the credentials and return the user's API token (created on first use).

    Not atomic on purpose: django-axes records a failed attempt from inside ``authenticate``
    and that row must survive the refusal that follows."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise ServiceError(_("用户名或密码错误"), code="invalid_credentials")
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def auth_token_revoke(*, user: Any) -> int:
    """Delete the user's API token; requests with it are refused from now on."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return deleted
