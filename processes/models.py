"""Process and task tables for every workflow's flow.

viewflow lets a flow name its own ``process_class`` and ``task_class``. Ours carry the queue
columns (case kind and id, step code, queue group, department, deadline) so a caseworker's queue is
one indexed query on one table, sorted by deadline, at millions of rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import AbstractProcess, AbstractTask
from viewflow.workflow.status import STATUS

from workflow_app.workdays.models import Deadline
from workflow_app.writes import save_row

OPEN_TASK_STATUSES = ("NEW", "ASSIGNED")


def _unused_content_type() -> models.ForeignKey:
    """viewflow's seed/artifact links: never set by our flows, so not indexed (see CaseTask)."""
    return models.ForeignKey(
        ContentType,
        blank=True,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )


class CaseProcess(AbstractProcess):
    case_kind = models.CharField(max_length=20)
    case_id = models.BigIntegerField()
    data = models.JSONField(default=dict, blank=True)

    seed = GenericForeignKey("seed_content_type", "seed_object_id")
    seed_content_type = _unused_content_type()
    seed_object_id = models.PositiveIntegerField(null=True, blank=True)
    artifact = GenericForeignKey("artifact_content_type", "artifact_object_id")
    artifact_content_type = _unused_content_type()
    artifact_object_id = models.PositiveIntegerField(null=True, blank=True)

    parent_task = None  # subprocesses are not used

    def save(self, *args: Any, **kwargs: Any) -> None:
        # every filing inserts one: SQL built once (workflow_app/writes.py)
        if args or not save_row(self, **kwargs):
            super().save(*args, **kwargs)

    class Meta:
        verbose_name = _("流程实例")
        verbose_name_plural = _("流程实例")
        constraints = [
            models.UniqueConstraint(fields=["case_kind", "case_id"], name="one_process_per_case")
        ]


class CaseTask(AbstractTask):
    process = models.ForeignKey(CaseProcess, on_delete=models.CASCADE, related_name="task_set")
    data = models.JSONField(default=dict, blank=True)

    # viewflow indexes these columns for its timers, jobs, per-object permissions and generic task
    # lists, none of which this project uses; every task row written (three per completion) would
    # maintain them. Our queues read the partial indexes below.
    status = models.CharField(
        _("Status"), choices=STATUS.choices, default=STATUS.NEW, max_length=50
    )
    scheduled = models.DateTimeField(_("Scheduled"), blank=True, null=True)
    external_task_id = models.CharField(
        blank=True, max_length=50, null=True, verbose_name=_("External Task ID")
    )
    owner_permission_content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, blank=True, null=True, db_index=False
    )

    seed = GenericForeignKey("seed_content_type", "seed_object_id")
    seed_content_type = _unused_content_type()
    seed_object_id = models.PositiveIntegerField(null=True, blank=True)
    artifact = GenericForeignKey("artifact_content_type", "artifact_object_id")
    artifact_content_type = _unused_content_type()
    artifact_object_id = models.PositiveIntegerField(null=True, blank=True)

    # Queue columns, set when the task is created.
    case_kind = models.CharField(_("业务"), max_length=20, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    case_reference = models.CharField(_("案件编号"), max_length=40, blank=True)
    step = models.CharField(_("环节"), max_length=40, blank=True)
    subject_name = models.CharField(_("申请主体"), max_length=200, blank=True)
    record_title = models.CharField(_("所涉信息"), max_length=300, blank=True)
    case_status = models.CharField(_("案件状态"), max_length=30, blank=True)
    queue = models.CharField(_("队列"), max_length=40, blank=True)
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.OneToOneField(
        Deadline,
        verbose_name=_("期限"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task",
    )
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理完成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["-created"]
        indexes = [
            # unclaimed tasks of a group, oldest deadline first
            models.Index(
                fields=["queue", "due_at", "id"],
                name="task_open_queue",
                condition=models.Q(status__in=OPEN_TASK_STATUSES, owner__isnull=True),
            ),
            # every open human task (supervisors), oldest deadline first
            models.Index(
                fields=["due_at", "id"],
                name="task_open_due",
                condition=models.Q(status__in=OPEN_TASK_STATUSES) & ~models.Q(queue=""),
            ),
            models.Index(
                fields=["owner", "due_at", "id"],
                name="task_open_owner",
                condition=models.Q(status__in=OPEN_TASK_STATUSES),
            ),
            models.Index(fields=["case_kind", "case_id"], name="task_case"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # three task rows written per completion: SQL built once (workflow_app/writes.py); the
        # flow task type filled in first, as viewflow's AbstractTask.save does
        if self.flow_task and not self.flow_task_type:  # type: ignore[has-type]
            self.flow_task_type = self.flow_task.task_type
        if args or not save_row(self, **kwargs):
            super().save(*args, **kwargs)

    def reverse(self, view_name: str, *args: Any) -> str:
        return self.flow_task.reverse(view_name, args=[self.process_id, self.pk, *args])


class ExportLog(models.Model):
    """One export of a case list or of a queue: who, when, which filter, how many rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.PROTECT,
        related_name="exports",
    )
    at = models.DateTimeField(_("导出时间"), auto_now_add=True)
    what = models.CharField(_("导出内容"), max_length=40)  # a case kind's code, or "queue"
    file_format = models.CharField(_("格式"), max_length=10)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.what} · {self.file_format} · {self.rows}"
