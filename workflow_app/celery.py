"""Celery application: configuration from Django settings (namespace CELERY)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_app.settings.dev")

app = Celery("workflow_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
