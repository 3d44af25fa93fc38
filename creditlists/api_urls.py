from django.urls import path

from . import api

urlpatterns = [
    path("lists/entries/", api.EntryListView.as_view(), name="api-list-entries"),
    path("lists/entries/<int:pk>/", api.EntryDetailView.as_view(), name="api-list-entry"),
    path("lists/entries/<int:pk>/leave/", api.EntryLeaveView.as_view(), name="api-list-leave"),
    path(
        "lists/national-reports/<int:pk>/report/",
        api.NationalReportView.as_view(),
        name="api-list-national-report",
    ),
    path("lists/red/", api.RedListView.as_view(), name="api-red-list"),
    path("lists/black/", api.BlackListView.as_view(), name="api-black-list"),
]
