from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="api-auth-token"),
    path("auth/me/", api.MeView.as_view(), name="api-auth-me"),
    path("auth/logout/", api.TokenRevokeView.as_view(), name="api-auth-logout"),
]
