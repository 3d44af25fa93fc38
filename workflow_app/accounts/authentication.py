"""API token authentication: DRF's ``TokenAuthentication`` with its one read compiled once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from workflow_app.compiled import CompiledQuery

# DRF's read (the token with its user) and the user's department, which every queue check of a
# department caseworker reads; compiled once (workflow_app/compiled.py)
_TOKEN = CompiledQuery(
    lambda key: Token.objects.select_related("user__department").filter(key=key)[:2], str
)


class CompiledTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, answered as DRF answers it."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = _TOKEN.one(key)
        except Token.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
