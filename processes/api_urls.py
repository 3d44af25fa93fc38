from django.urls import path

from . import api
from .registry import kind

urlpatterns = [
    *api.case_endpoints(kind("objection"), api.ObjectionCreateSerializer, api._objection_kwargs),
    *api.case_endpoints(kind("repair"), api.RepairCreateSerializer, api._repair_kwargs),
    *api.case_endpoints(kind("commitment"), api.CommitmentCreateSerializer, api._commitment_kwargs),
    path("repairs/<int:pk>/revoke/", api.RepairRevoke.as_view(), name="api-repair-revoke"),
    path(
        "records/<int:pk>/repair-eligibility/",
        api.RepairEligibility.as_view(),
        name="api-repair-eligibility",
    ),
    path(
        "commitments/<int:pk>/fulfilment/",
        api.CommitmentFulfilment.as_view(),
        name="api-commitment-fulfilment",
    ),
    path("random-checks/", api.RandomCheckListCreate.as_view(), name="api-random-checks"),
    path("random-checks/<int:pk>/", api.RandomCheckDetail.as_view(), name="api-random-check"),
    path(
        "random-checks/<int:pk>/replay/",
        api.RandomCheckReplay.as_view(),
        name="api-random-check-replay",
    ),
    path("tasks/", api.TaskList.as_view(), name="api-tasks"),
    path("tasks/assign/", api.TaskAssign.as_view(), name="api-tasks-assign"),
    path("tasks/<int:pk>/claim/", api.TaskClaim.as_view(), name="api-task-claim"),
    path("tasks/<int:pk>/release/", api.TaskRelease.as_view(), name="api-task-release"),
    path("tasks/<int:pk>/complete/", api.TaskComplete.as_view(), name="api-task-complete"),
]
