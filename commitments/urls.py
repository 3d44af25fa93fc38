from django.urls import path

from . import api

urlpatterns = [
    path("commitments/", api.CommitmentList.as_view(), name="api-commitments"),
    path("commitments/<int:pk>/", api.CommitmentDetail.as_view(), name="api-commitment"),
]
