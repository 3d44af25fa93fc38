from django.urls import path

from . import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/open/", views.open_notification, name="inbox-open"),
]
