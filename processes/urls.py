from django.urls import path

from . import views
from .registry import kinds

urlpatterns = [
    path("objections/new/", views.objection_new, name="objection-new"),
    path("repairs/new/", views.repair_new, name="repair-new"),
    path("repairs/<int:pk>/revoke/", views.repair_revoke_view, name="repair-revoke"),
    path("commitments/new/", views.commitment_new, name="commitment-new"),
    path(
        "commitments/<int:pk>/fulfilment/",
        views.commitment_fulfilment,
        name="commitment-fulfilment",
    ),
    path("random-checks/", views.random_checks, name="random-checks"),
    path("random-checks/<int:pk>/", views.random_check_detail, name="random-check-detail"),
    path("credit-check/", views.credit_check_page, name="credit-check"),
    path("queue/", views.queue, name="queue"),
    path("queue/export.<str:file_format>", views.queue_export, name="queue-export"),
    path("queue/assign/", views.queue_assign, name="queue-assign"),
    path("tasks/<int:task_id>/", views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/<str:action>/", views.task_action, name="task-action"),
]

# Every registered case kind gets the same pages: list, detail, withdraw, supplement, evidence.
for _k in kinds():
    _p, _kw = _k.url_prefix, {"kind_code": _k.code}
    urlpatterns += [
        path(f"{_p}/", views.case_list, _kw, name=f"{_k.code}-list"),
        path(f"{_p}/export.<str:file_format>", views.case_export, _kw, name=f"{_k.code}-export"),
        path(f"{_p}/<int:pk>/", views.case_detail, _kw, name=f"{_k.code}-detail"),
        path(f"{_p}/<int:pk>/withdraw/", views.case_withdraw, _kw, name=f"{_k.code}-withdraw"),
        path(
            f"{_p}/<int:pk>/supplement/", views.case_supplement, _kw, name=f"{_k.code}-supplement"
        ),
        path(
            f"{_p}/<int:pk>/materials/", views.case_add_evidence, _kw, name=f"{_k.code}-materials"
        ),
        path(
            f"{_p}/<int:pk>/evidence/<int:evidence_id>/",
            views.evidence_download,
            _kw,
            name=f"{_k.code}-evidence",
        ),
    ]
