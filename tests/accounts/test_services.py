from __future__ import annotations

import pytest

from tests.factories import UserFactory
from workflow_app.accounts.selectors import queue_members, queues_for, users_for_queue
from workflow_app.accounts.services import user_create
from workflow_app.api import ServiceError

pytestmark = pytest.mark.django_db


def test_user_create_applicant_with_subject_can_log_in(client, company):
    user = user_create(username="acme", password="a-long-pass-1", role="applicant", subject=company)
    assert user.subject == company
    assert client.login(username="acme", password="a-long-pass-1")
    assert user.history.get(history_type="+").history_change_reason == "创建用户"


def test_user_create_applicant_without_subject_is_refused(db):
    with pytest.raises(ServiceError) as exc:
        user_create(username="x", password="a-long-pass-1", role="applicant")
    assert exc.value.errors[0]["field"] == "subject"


def test_user_create_department_without_department_is_refused(db):
    with pytest.raises(ServiceError) as exc:
        user_create(username="x", password="a-long-pass-1", role="department")
    assert exc.value.errors[0]["field"] == "department"


def test_user_create_refuses_a_taken_username(applicant, company):
    with pytest.raises(ServiceError) as exc:
        user_create(username="APPLICANT", password="p-12345678", role="applicant", subject=company)
    assert exc.value.code == "duplicate"


def test_user_create_admin_gets_admin_site_access(db):
    user = user_create(username="root", password="a-long-pass-1", role="admin")
    assert user.is_staff and user.is_superuser


def test_users_for_queue_resolves_each_group(
    centre_user, supervisor, dept_samr, dept_emb, applicant
):
    UserFactory(username="centre-off", centre=True, is_active=False)
    assert list(users_for_queue("centre")) == [centre_user]
    assert list(users_for_queue("supervisors")) == [supervisor]
    assert list(users_for_queue("dept:SAMR")) == [dept_samr]
    assert list(users_for_queue("dept:EMB")) == [dept_emb]
    assert list(users_for_queue("dept:TAX")) == []
    assert list(users_for_queue("nonsense")) == []
    # the compiled read that notifications use gives the same members
    for queue in (
        "centre",
        "supervisors",
        "dept:SAMR",
        "dept:EMB",
        "dept:TAX",
        "nonsense",
        "dept:",
    ):
        assert queue_members(queue) == list(users_for_queue(queue))


def test_queues_for_each_role(centre_user, supervisor, dept_samr, applicant):
    assert queues_for(centre_user) == ["centre"]
    assert queues_for(dept_samr) == ["dept:SAMR"]
    assert queues_for(supervisor) == ["supervisors"]
    assert queues_for(applicant) == []
