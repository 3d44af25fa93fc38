from django.urls import path

from . import api

urlpatterns = [
    path("objections/", api.ObjectionListCreate.as_view(), name="api-objections"),
    path("objections/<int:pk>/", api.ObjectionDetail.as_view(), name="api-objection"),
    path(
        "objections/<int:pk>/withdraw/",
        api.ObjectionWithdraw.as_view(),
        name="api-objection-withdraw",
    ),
    path(
        "objections/<int:pk>/supplement/",
        api.ObjectionSupplement.as_view(),
        name="api-objection-supplement",
    ),
    path("tasks/", api.TaskList.as_view(), name="api-tasks"),
    path("tasks/assign/", api.TaskAssign.as_view(), name="api-tasks-assign"),
    path("tasks/<int:pk>/claim/", api.TaskClaim.as_view(), name="api-task-claim"),
    path("tasks/<int:pk>/release/", api.TaskRelease.as_view(), name="api-task-release"),
    path("tasks/<int:pk>/complete/", api.TaskComplete.as_view(), name="api-task-complete"),
]
