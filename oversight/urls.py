from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/steps/", views.steps, name="dashboard-steps"),
    path("dashboard/publicity/", views.late_publicity, name="dashboard-publicity"),
    path("dashboard/sync/", views.sync_overdue, name="dashboard-sync"),
    path(
        "dashboard/national-reports/",
        views.national_reports_overdue,
        name="dashboard-national-reports",
    ),
]
