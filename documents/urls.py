from django.urls import path

from . import views

urlpatterns = [
    path("report/<str:identifier>/report.pdf", views.report_pdf, name="report-pdf"),
    path("verify/report/<str:code>/", views.verify_report, name="verify-report"),
    path("verify/<str:code>/document.pdf", views.decision_pdf, name="decision-pdf"),
]
