from django.urls import path

from . import views

urlpatterns = [
    path("report/", views.report_search, name="report-search"),
    path("report/<str:identifier>/", views.report, name="report"),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:code>/", views.verify_detail, name="verify-detail"),
]
