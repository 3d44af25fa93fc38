from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from workflow_app.accounts.models import User
from workflow_app.registry.identifiers import validate_uscc
from workflow_app.registry.models import CreditRecord, Department, Subject

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "departments": Department.objects.count(),
        "subjects": Subject.objects.count(),
        "records": CreditRecord.objects.count(),
        "users": User.objects.count(),
    }


def test_seed_demo_is_idempotent(settings):
    settings.DEPLOYMENT_ENV = "development"
    call_command("seed_demo")
    first = _counts()
    ids = sorted(CreditRecord.objects.values_list("id", flat=True))
    call_command("seed_demo")
    assert _counts() == first
    assert sorted(CreditRecord.objects.values_list("id", flat=True)) == ids
    assert first["departments"] == 3 and first["users"] == 8


def test_seed_demo_is_refused_in_production_without_force(settings):
    settings.DEPLOYMENT_ENV = "production"
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert User.objects.count() == 0
    call_command("seed_demo", "--force")
    assert User.objects.filter(username="admin", is_superuser=True).exists()


def test_demo_users_can_log_in_with_their_links(client):
    call_command("seed_demo")
    assert client.login(username="applicant", password="demo-pass-2026")
    applicant = User.objects.get(username="applicant")
    assert applicant.subject.name == "深圳市坪山示例科技有限公司"
    assert applicant.email == "applicant@example.com" and applicant.phone
    assert User.objects.get(username="applicant2").subject.name == "深圳市宝安示例制造有限公司"
    assert User.objects.get(username="dept_samr").department.code == "SAMR"
    assert User.objects.get(username="dept_emb").department.code == "EMB"
    assert User.objects.get(username="dept_tax").department.code == "TAX"  # every department acts


def test_demo_records_cover_every_category_and_severity_and_are_published():
    call_command("seed_demo")
    records = CreditRecord.objects.all()
    assert {r.category for r in records} == {
        "basic",
        "licence",
        "penalty",
        "judicial",
        "supervision",
        "honour",
        "risk",
        "other",
    }
    dishonest = records.filter(nature="dishonesty")
    assert {r.severity for r in dishonest} == {"minor", "general", "serious"}
    assert {r.department.code for r in dishonest} == {"SAMR", "EMB", "TAX"}
    today = timezone.localdate()
    for record in records:
        assert record.status == "published"
        assert record.publicity_end is None or record.publicity_end > today
    for subject in Subject.objects.all():
        validate_uscc(subject.identifier)


def test_demo_has_repairable_and_not_yet_repairable_records():
    call_command("seed_demo")
    today = timezone.localdate()
    minimum = {"minor": 0, "general": 3 * 31, "serious": 366}
    repairable = set()
    waiting = set()
    for record in CreditRecord.objects.filter(nature="dishonesty"):
        age = (today - record.decision_date).days
        (repairable if age >= minimum[record.severity] else waiting).add(record.severity)
    assert repairable == {"minor", "general", "serious"}
    assert waiting == {"general", "serious"}


def test_demo_applicant_owns_both_kinds_of_records():
    call_command("seed_demo")
    subject = User.objects.get(username="applicant").subject
    old = subject.records.filter(
        severity="general", decision_date__lte=timezone.localdate() - datetime.timedelta(days=120)
    )
    recent = subject.records.filter(
        severity="general", decision_date__gt=timezone.localdate() - datetime.timedelta(days=60)
    )
    assert old.exists() and recent.exists()
