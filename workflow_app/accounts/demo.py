"""Demo data for the embedded mode and the browser tests (``manage.py seed_demo``).

Idempotent: departments, subjects and users are looked up by their natural keys and records by
(department, external id), so a second run finds everything and creates nothing. Decision dates
are relative to the day of the first run, chosen so that — on that day — some dishonesty
records are already repairable (minimum publicity passed) and some are not yet.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from workflow_app.registry.identifiers import uscc_check_char
from workflow_app.registry.models import CreditRecord, Department, Subject

from .models import Role, User
from .services import user_create

DEMO_PASSWORD = "demo-pass-2026"
CHANGE_REASON = "seed_demo"

DEPARTMENTS = [
    ("SAMR", "市场监督管理局", "Administration for Market Regulation"),
    ("EMB", "应急管理局", "Emergency Management Bureau"),
    ("TAX", "税务局", "Tax Bureau"),
]

# Maximum publicity in months by severity (spec §4); positive/neutral records: 36 months.
MAX_PUBLICITY_MONTHS = {"minor": 3, "general": 12, "serious": 36, "": 36}


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


# key, 17-character body of the credit code, name, grade, red list, black list
SUBJECTS = [
    ("pingshan", "91440300MA5G00001", "深圳市坪山示例科技有限公司", "BB", False, False),
    ("baoan", "91440300MA5G00002", "深圳市宝安示例制造有限公司", "CCC", False, True),
    ("futian", "91440300MA5G00003", "深圳市福田示例贸易有限公司", "A", True, False),
    ("nanshan", "91440300MA5G00004", "深圳市南山示例建设工程有限公司", "B", False, False),
    ("changning", "91310105MA1K00005", "上海长宁示例信息服务有限公司", "BBB", False, False),
]


@dataclass(frozen=True)
class DemoRecord:
    external_id: str
    subject: str
    department: str
    category: str
    nature: str
    severity: str
    title: str
    content: str
    months_ago: int = 0
    days_ago: int = 0
    note: str = ""


RECORDS = [
    # 坪山 (applicant): every severity, two repairable, one not yet.
    DemoRecord(
        "DEMO-SAMR-0001",
        "pingshan",
        "SAMR",
        "basic",
        "neutral",
        "",
        "企业登记基本信息",
        "登记机关：深圳市市场监督管理局坪山监管局；企业类型：有限责任公司；经营状态：存续。",
        months_ago=48,
    ),
    DemoRecord(
        "DEMO-SAMR-0002",
        "pingshan",
        "SAMR",
        "licence",
        "positive",
        "",
        "食品经营许可证（JY14403100000001）",
        "许可内容：预包装食品销售；有效期五年。",
        months_ago=10,
    ),
    DemoRecord(
        "DEMO-SAMR-0003",
        "pingshan",
        "SAMR",
        "penalty",
        "dishonesty",
        "general",
        "深市监坪罚〔示例〕1号 行政处罚决定书",
        "未按规定公示年度报告，责令改正并处罚款人民币5000元。罚款已缴纳。",
        months_ago=5,
        note="可修复：一般失信，已满最短公示期3个月",
    ),
    DemoRecord(
        "DEMO-EMB-0001",
        "pingshan",
        "EMB",
        "penalty",
        "dishonesty",
        "serious",
        "深应急罚〔示例〕7号 行政处罚决定书",
        "未按规定对从业人员进行安全生产教育和培训，处罚款人民币30000元。",
        months_ago=14,
        note="可修复：严重失信，已满最短公示期1年",
    ),
    DemoRecord(
        "DEMO-TAX-0001",
        "pingshan",
        "TAX",
        "penalty",
        "dishonesty",
        "general",
        "深税坪罚〔示例〕3号 税务行政处罚决定书",
        "未按期办理纳税申报，处罚款人民币2000元。",
        months_ago=1,
        note="暂不可修复：一般失信，未满最短公示期3个月",
    ),
    DemoRecord(
        "DEMO-SAMR-0004",
        "pingshan",
        "SAMR",
        "supervision",
        "dishonesty",
        "minor",
        "经营异常名录（未按时报送年报）",
        "因未按时报送年度报告被列入经营异常名录。",
        days_ago=20,
        note="可修复：轻微失信，无最短公示期",
    ),
    DemoRecord(
        "DEMO-SAMR-0005",
        "pingshan",
        "SAMR",
        "honour",
        "positive",
        "",
        "守合同重信用企业",
        "连续两年获评深圳市守合同重信用企业。",
        months_ago=8,
    ),
    # 宝安 (applicant2): black list, serious records not yet repairable.
    DemoRecord(
        "DEMO-EMB-0002",
        "baoan",
        "EMB",
        "penalty",
        "dishonesty",
        "serious",
        "深应急罚〔示例〕12号 行政处罚决定书",
        "生产经营单位未采取措施消除事故隐患，处罚款人民币80000元。",
        months_ago=6,
        note="暂不可修复：严重失信，未满最短公示期1年",
    ),
    DemoRecord(
        "DEMO-EMB-0003",
        "baoan",
        "EMB",
        "supervision",
        "dishonesty",
        "general",
        "安全生产重点监管名单",
        "因重大事故隐患未按期整改被列入重点监管名单。",
        months_ago=5,
        note="可修复：一般失信，已满最短公示期3个月",
    ),
    DemoRecord(
        "DEMO-TAX-0002",
        "baoan",
        "TAX",
        "judicial",
        "dishonesty",
        "serious",
        "失信被执行人（法院移送）",
        "未履行生效法律文书确定的给付义务，经法院移送公示。",
        months_ago=14,
        note="可修复：严重失信，已满最短公示期1年",
    ),
    DemoRecord(
        "DEMO-TAX-0003",
        "baoan",
        "TAX",
        "risk",
        "dishonesty",
        "minor",
        "欠税公告",
        "截至公告日欠缴增值税人民币12000元。",
        days_ago=45,
    ),
    DemoRecord(
        "DEMO-SAMR-0006",
        "baoan",
        "SAMR",
        "other",
        "dishonesty",
        "general",
        "违背信用承诺",
        "告知承诺审批后经核查承诺内容不实。",
        months_ago=1,
        note="暂不可修复：一般失信，未满最短公示期3个月",
    ),
    DemoRecord(
        "DEMO-SAMR-0007",
        "baoan",
        "SAMR",
        "basic",
        "neutral",
        "",
        "企业登记基本信息",
        "登记机关：深圳市市场监督管理局宝安监管局；经营状态：存续。",
        months_ago=60,
    ),
    # 福田: red list, positive records only.
    DemoRecord(
        "DEMO-SAMR-0008",
        "futian",
        "SAMR",
        "honour",
        "positive",
        "",
        "守信红名单企业",
        "纳入深圳市守信联合激励红名单。",
        months_ago=3,
    ),
    DemoRecord(
        "DEMO-TAX-0004",
        "futian",
        "TAX",
        "honour",
        "positive",
        "",
        "纳税信用A级纳税人",
        "2025年度纳税信用评价为A级。",
        months_ago=7,
    ),
    DemoRecord(
        "DEMO-SAMR-0009",
        "futian",
        "SAMR",
        "licence",
        "positive",
        "",
        "第二类医疗器械经营备案",
        "备案编号：粤深食药监械经营备示例0009号。",
        months_ago=18,
    ),
    # 南山
    DemoRecord(
        "DEMO-EMB-0004",
        "nanshan",
        "EMB",
        "risk",
        "dishonesty",
        "general",
        "建设工程安全生产风险提示",
        "施工现场存在较大安全风险，已约谈企业负责人。",
        months_ago=4,
        note="可修复：一般失信，已满最短公示期3个月",
    ),
    DemoRecord(
        "DEMO-TAX-0005",
        "nanshan",
        "TAX",
        "penalty",
        "dishonesty",
        "minor",
        "深税南罚〔示例〕5号 税务行政处罚决定书",
        "未按规定保管发票，处罚款人民币500元。",
        days_ago=10,
    ),
    DemoRecord(
        "DEMO-SAMR-0010",
        "nanshan",
        "SAMR",
        "other",
        "neutral",
        "",
        "股权出质登记",
        "股权出质设立登记，出质股权数额100万元。",
        months_ago=9,
    ),
    # 长宁
    DemoRecord(
        "DEMO-SAMR-0011",
        "changning",
        "SAMR",
        "supervision",
        "dishonesty",
        "serious",
        "严重违法失信名单",
        "提交虚假材料取得公司登记，被列入严重违法失信名单。",
        months_ago=20,
        note="可修复：严重失信，已满最短公示期1年",
    ),
]

USERS: list[dict[str, Any]] = [
    {
        "username": "applicant",
        "role": Role.APPLICANT,
        "subject": "pingshan",
        "phone": "13800000001",
    },
    {"username": "applicant2", "role": Role.APPLICANT, "subject": "baoan", "phone": "13800000002"},
    {"username": "centre", "role": Role.CENTRE},
    {"username": "dept_samr", "role": Role.DEPARTMENT, "department": "SAMR"},
    {"username": "dept_emb", "role": Role.DEPARTMENT, "department": "EMB"},
    {"username": "dept_tax", "role": Role.DEPARTMENT, "department": "TAX"},
    {"username": "supervisor", "role": Role.SUPERVISOR},
    {"username": "admin", "role": Role.ADMIN},
]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """民法典 Art. 201–203: the same-numbered day of the target month, or its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class SeedSummary:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[kind] = bucket.get(kind, 0) + 1


def _save_new(obj: Any) -> None:
    obj._change_reason = CHANGE_REASON
    obj.save()


# Apps above the kernel add their own demo data after the kernel's (a list entry for each
# subject flagged on a list, …): ``fn(today)``, registered in their ``AppConfig.ready``.
_seeders: list[Any] = []


def register_demo_seeder(fn: Any) -> Any:
    if fn not in _seeders:
        _seeders.append(fn)
    return fn


@transaction.atomic
def demo_data_seed(*, today: datetime.date | None = None) -> SeedSummary:
    """Create the demo departments, subjects, records and users that do not exist yet."""
    today = today or timezone.localdate()
    summary = SeedSummary()

    departments: dict[str, Department] = {}
    for code, name, name_en in DEPARTMENTS:
        dept = Department.objects.filter(code=code).first()
        summary.count("departments", dept is None)
        if dept is None:
            dept = Department(code=code, name=name, name_en=name_en)
            _save_new(dept)
        departments[code] = dept

    subjects: dict[str, Subject] = {}
    for key, body, name, grade, red, black in SUBJECTS:
        code = uscc(body)
        subject = Subject.objects.filter(identifier=code).first()
        summary.count("subjects", subject is None)
        if subject is None:
            subject = Subject(
                kind="legal_person",
                name=name,
                identifier=code,
                identifier_display=code,
                grade=grade,
                red_list=red,
                black_list=black,
            )
            _save_new(subject)
        subjects[key] = subject

    for spec in RECORDS:
        dept = departments[spec.department]
        exists = CreditRecord.objects.filter(department=dept, external_id=spec.external_id).exists()
        summary.count("records", not exists)
        if exists:
            continue
        decided = add_months(today, -spec.months_ago) - datetime.timedelta(days=spec.days_ago)
        months = MAX_PUBLICITY_MONTHS[spec.severity]
        record = CreditRecord(
            subject=subjects[spec.subject],
            department=dept,
            external_id=spec.external_id,
            category=spec.category,
            nature=spec.nature,
            severity=spec.severity,
            title=spec.title,
            content=spec.content,
            decision_date=decided,
            publicity_start=decided,
            publicity_end=None if spec.category == "basic" else add_months(decided, months),
            status="published",
        )
        _save_new(record)

    for spec_user in USERS:
        username = spec_user["username"]
        exists = User.objects.filter(username=username).exists()
        summary.count("users", not exists)
        if exists:
            continue
        user_create(
            username=username,
            password=DEMO_PASSWORD,
            role=spec_user["role"],
            subject=subjects.get(spec_user.get("subject", "")),
            department=departments.get(spec_user.get("department", "")),
            email=f"{username}@example.com",
            phone=spec_user.get("phone", ""),
            reason=CHANGE_REASON,
        )
    for seeder in _seeders:
        seeder(today)
    return summary
