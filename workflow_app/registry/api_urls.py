from django.urls import path

from . import api

urlpatterns = [
    path("records/", api.RecordImportView.as_view(), name="api-records-import"),
    path(
        "subjects/<str:identifier>/report/",
        api.SubjectReportView.as_view(),
        name="api-subject-report",
    ),
    path("verify/<str:code>/", api.VerifyView.as_view(), name="api-verify"),
]
