from django.urls import path

from . import views

urlpatterns = [path("dashboard/", views.DashboardAPI.as_view(), name="api-dashboard")]
