from django.urls import path

from . import views

urlpatterns = [
    path("objections/", views.objection_list, name="objection-list"),
    path("objections/new/", views.objection_new, name="objection-new"),
    path("objections/<int:pk>/", views.objection_detail, name="objection-detail"),
    path("objections/<int:pk>/withdraw/", views.objection_withdraw, name="objection-withdraw"),
    path(
        "objections/<int:pk>/supplement/", views.objection_supplement, name="objection-supplement"
    ),
    path(
        "objections/<int:pk>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="objection-evidence",
    ),
    path("queue/", views.queue, name="queue"),
    path("queue/assign/", views.queue_assign, name="queue-assign"),
    path("tasks/<int:task_id>/", views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/<str:action>/", views.task_action, name="task-action"),
]
