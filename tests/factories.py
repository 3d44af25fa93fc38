"""factory-boy factories shared by every test package. One trait per lifecycle state where a
model has a lifecycle."""

from __future__ import annotations

import datetime
import random

import factory
from django.utils import timezone

from workflow_app.accounts.models import Role, User
from workflow_app.registry.identifiers import (
    USCC_ALPHABET,
    id_check_char,
    mask_resident_id,
    resident_id_key,
    uscc_check_char,
)
from workflow_app.registry.models import CreditRecord, Department, Subject

PASSWORD = "demo-pass-2026"


def make_uscc(n: int) -> str:
    """A valid 统一社会信用代码 derived from ``n`` (deterministic)."""
    rng = random.Random(n)
    body = "91" + "440300" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def make_resident_id(n: int) -> str:
    body = f"440304{1970 + n % 40:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + id_check_char(body)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"部门{n}")


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    kind = "legal_person"
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    identifier = factory.Sequence(make_uscc)
    identifier_display = factory.LazyAttribute(lambda o: o.identifier)
    grade = "BBB"

    class Params:
        natural = factory.Trait(
            kind="natural_person",
            name=factory.Sequence(lambda n: f"张{n}"),
            identifier=factory.Sequence(lambda n: resident_id_key(make_resident_id(n))),
            identifier_display=factory.Sequence(lambda n: mask_resident_id(make_resident_id(n))),
        )
        blacklisted = factory.Trait(black_list=True)


class CreditRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditRecord

    subject = factory.SubFactory(SubjectFactory)
    department = factory.SubFactory(DepartmentFactory)
    external_id = factory.Sequence(lambda n: f"EXT-{n:06d}")
    category = "penalty"
    nature = "dishonesty"
    severity = "general"
    title = factory.Sequence(lambda n: f"行政处罚决定书 第{n}号")
    content = "未按规定公示年度报告，罚款人民币5000元。"
    decision_date = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=400)
    )
    publicity_start = factory.LazyAttribute(lambda o: o.decision_date)
    publicity_end = factory.LazyAttribute(lambda o: o.decision_date + datetime.timedelta(days=1095))

    class Params:
        positive = factory.Trait(nature="positive", severity="", category="honour")
        corrected = factory.Trait(status="corrected")
        deleted = factory.Trait(status="deleted")
        repaired = factory.Trait(status="repaired")
        expired = factory.Trait(status="expired")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.APPLICANT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()

    class Params:
        applicant = factory.Trait(role=Role.APPLICANT, subject=factory.SubFactory(SubjectFactory))
        centre = factory.Trait(role=Role.CENTRE)
        department_staff = factory.Trait(
            role=Role.DEPARTMENT, department=factory.SubFactory(DepartmentFactory)
        )
        supervisor = factory.Trait(role=Role.SUPERVISOR)
        administrator = factory.Trait(role=Role.ADMIN, is_staff=True, is_superuser=True)
