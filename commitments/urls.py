from django.urls import path

from . import api

urlpatterns = [
    path(
        "subjects/<str:identifier>/credit-check/",
        api.CreditCheckView.as_view(),
        name="api-credit-check",
    ),
    path(
        "credit-checks/<int:pk>/feedback/",
        api.CreditCheckFeedback.as_view(),
        name="api-credit-check-feedback",
    ),
]
