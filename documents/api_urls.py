from django.urls import path

from . import views

urlpatterns = [
    path(
        "subjects/<str:identifier>/report.pdf",
        views.SubjectReportPDF.as_view(),
        name="api-subject-report-pdf",
    ),
    path("decisions/<str:code>/document.pdf", views.DecisionPDF.as_view(), name="api-decision-pdf"),
]
