"""Subjects, departments, credit records (versioned) and decision documents."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from workflow_app.cases.history import CaseHistory


class SubjectKind(models.TextChoices):
    LEGAL_PERSON = "legal_person", _("法人")
    NATURAL_PERSON = "natural_person", _("自然人")


class Grade(models.TextChoices):
    A = "A", "A"
    BBB = "BBB", "BBB"
    BB = "BB", "BB"
    B = "B", "B"
    CCC = "CCC", "CCC"
    CC = "CC", "CC"
    C = "C", "C"
    D = "D", "D"


class Category(models.TextChoices):
    BASIC = "basic", _("基本信息")
    LICENCE = "licence", _("资质及许可")
    PENALTY = "penalty", _("行政处罚")
    JUDICIAL = "judicial", _("司法")
    SUPERVISION = "supervision", _("监管及警示")
    HONOUR = "honour", _("荣誉")
    RISK = "risk", _("风险信息")
    OTHER = "other", _("其他")


class Nature(models.TextChoices):
    POSITIVE = "positive", _("守信")
    DISHONESTY = "dishonesty", _("失信")
    NEUTRAL = "neutral", _("中性")


class Severity(models.TextChoices):
    MINOR = "minor", _("轻微")
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("严重")


class RecordStatus(models.TextChoices):
    PUBLISHED = "published", _("公示中")
    CORRECTED = "corrected", _("已更正（被新版本替代）")
    DELETED = "deleted", _("已删除")
    REPAIRED = "repaired", _("已修复（提前停止公示）")
    EXPIRED = "expired", _("公示期满")


class Department(models.Model):
    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("信源单位")
        verbose_name_plural = _("信源单位")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (English when chosen and known)."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Subject(models.Model):
    """A legal or natural person.

    ``identifier`` is the lookup key: the 统一社会信用代码 for a legal person, and for a natural
    person an HMAC of the resident ID (the ID itself is never stored in clear).
    ``identifier_display`` is what may be shown: the code, or the masked ID.
    """

    kind = models.CharField(_("主体类型"), max_length=20, choices=SubjectKind.choices)
    name = models.CharField(_("名称"), max_length=200)
    identifier = models.CharField(_("标识"), max_length=64, unique=True)
    identifier_display = models.CharField(_("证照号码"), max_length=32)
    grade = models.CharField(_("信用等级"), max_length=3, choices=Grade.choices, default=Grade.BBB)
    red_list = models.BooleanField(_("守信红名单"), default=False)
    black_list = models.BooleanField(_("失信黑名单"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("信用主体")
        verbose_name_plural = _("信用主体")

    def __str__(self) -> str:
        return f"{self.name}（{self.identifier_display}）"

    @property
    def is_legal_person(self) -> bool:
        return self.kind == SubjectKind.LEGAL_PERSON


class CreditRecord(models.Model):
    """One version of a credit record. A correction creates a new row (``version`` + 1) and
    marks this one ``corrected``; the chain of versions is ``previous_version``."""

    # no single-column indexes of their own: (subject, status) and the (department, external_id,
    # version) constraint lead with them; every index is maintained by each import of records
    subject = models.ForeignKey(
        Subject,
        verbose_name=_("主体"),
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("信源单位"),
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
    )
    external_id = models.CharField(_("外部编号"), max_length=100)
    version = models.PositiveIntegerField(_("版本"), default=1)
    previous_version = models.OneToOneField(
        "self",
        verbose_name=_("上一版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
    )
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    nature = models.CharField(_("性质"), max_length=20, choices=Nature.choices)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, blank=True)
    title = models.CharField(_("标题"), max_length=300)
    content = models.TextField(_("内容"), blank=True)
    decision_date = models.DateField(_("决定日期"))
    publicity_start = models.DateField(_("公示开始"))
    publicity_end = models.DateField(_("公示截止"), null=True, blank=True)
    status = models.CharField(
        _("公示状态"),
        max_length=20,
        choices=RecordStatus.choices,
        default=RecordStatus.PUBLISHED,
    )
    under_objection = models.BooleanField(_("异议标注"), default=False)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # versions are read per record (its id) and in time order; no other history index is read
    history = HistoricalRecords(no_db_index=["subject", "department", "previous_version"])

    class Meta:
        verbose_name = _("信用信息")
        verbose_name_plural = _("信用信息")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "external_id", "version"], name="record_version_unique"
            )
        ]
        indexes = [
            models.Index(fields=["subject", "status"], name="record_subject_status"),
            # records that left publicity, by status (admin filter); most rows are published and
            # a new record adds nothing to it
            models.Index(
                fields=["status"],
                name="record_status_unpublished",
                condition=~models.Q(status=RecordStatus.PUBLISHED),
            ),
            # a case's department through its record, read from the index alone (dashboard)
            models.Index(fields=["id", "department"], name="record_department_lookup"),
            # 双公示 timeliness: licence and penalty first pushes by push time
            models.Index(
                fields=["created_at", "department"],
                name="record_publicity_push",
                condition=models.Q(version=1, category__in=["licence", "penalty"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（v{self.version}）"


class DecisionDocument(models.Model):
    """A decision that anyone can verify by its code (objection result, repair decision)."""

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("有效")
        REVOKED = "revoked", _("已撤销")

    code = models.CharField(_("验证码"), max_length=32, unique=True)
    case_kind = models.CharField(max_length=20)
    case_id = models.BigIntegerField()
    case_reference = models.CharField(_("案件编号"), max_length=40)
    subject = models.ForeignKey(
        Subject, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="decisions"
    )
    record = models.ForeignKey(
        CreditRecord,
        verbose_name=_("所涉信用信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    title = models.CharField(_("标题"), max_length=200)
    decision = models.CharField(_("决定"), max_length=40)
    summary = models.TextField(_("决定内容"), blank=True)
    # the summary as a message code and parameters, rendered in the reader's language
    summary_code = models.CharField(max_length=60, blank=True)
    summary_params = models.JSONField(default=dict, blank=True)
    issued_at = models.DateTimeField(_("作出时间"))
    issued_by = models.CharField(_("作出机关"), max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_FORCE)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    history = CaseHistory()

    class Meta:
        verbose_name = _("决定文书")
        verbose_name_plural = _("决定文书")
        indexes = [models.Index(fields=["case_kind", "case_id"], name="decision_case")]

    def __str__(self) -> str:
        return f"{self.title} {self.code}"
