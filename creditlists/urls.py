from django.urls import path

from . import views
from .models import ListType

urlpatterns = [
    path("lists/red/", views.public_list, {"list_type": ListType.RED}, name="red-list"),
    path("lists/black/", views.public_list, {"list_type": ListType.BLACK}, name="black-list"),
]
