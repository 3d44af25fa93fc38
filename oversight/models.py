"""Daily rollups behind the dashboard.

A day's completed steps, filed cases and 双公示 pushes never change once the day is over (a
deadline is closed, a case filed, a record pushed at the moment it happens), so each ended day is
summed once, set-based, into these tables (``oversight.rollups.rollup_build``, every ten minutes
by beat and ``manage.py rollup_dashboard``), and the day going on up to ten minutes ago in
slices (:class:`RollupPart`), summed again whole once it has ended; the dashboard reads the
rollups up to where they reach and the base tables only after that. Rows keep the days themselves
(start day, decision day), not working-day counts, so a calendar loaded later changes nothing
stored: working days are counted when the dashboard is read.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RollupDay(models.Model):
    """A day whose rows are in the rollup tables."""

    day = models.DateField(unique=True)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("看板汇总日")
        verbose_name_plural = _("看板汇总日")


class RollupPart(models.Model):
    """The day being summed while it goes on: its rows before ``through`` are in the rollup
    tables (in slices, one per builder run); the rest of it is read live. At most one row: the
    day after the last :class:`RollupDay`, summed again whole once it has ended."""

    day = models.DateField(unique=True)
    through = models.DateTimeField()

    class Meta:
        verbose_name = _("看板当日汇总")
        verbose_name_plural = _("看板当日汇总")


class StepDay(models.Model):
    """Staff steps completed on ``day`` that started on ``start_day``, by workflow, department
    and step: how many, and how many within their deadline."""

    day = models.DateField()
    start_day = models.DateField()
    case_kind = models.CharField(max_length=20)
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("部门"),
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    step = models.CharField(max_length=40)
    completed = models.PositiveIntegerField()
    on_time = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "case_kind"], name="stepday_day")]


class FiledDay(models.Model):
    """Cases filed (signed, for commitments) on ``day``, by workflow and department."""

    day = models.DateField()
    case_kind = models.CharField(max_length=20)
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("部门"),
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    filed = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="filedday_day")]


class PublicityDay(models.Model):
    """双公示 records (licence, penalty; first versions) pushed on ``day`` by a department for
    decisions of ``decision_date``."""

    day = models.DateField()
    department = models.ForeignKey(
        "registry.Department", verbose_name=_("部门"), on_delete=models.CASCADE, related_name="+"
    )
    decision_date = models.DateField()
    pushed = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "department"], name="publicityday_day")]
