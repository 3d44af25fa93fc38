from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient

from tests.factories import DepartmentFactory, SubjectFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip when a local service is missing on a developer machine; fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


def reset_celery_connections(app) -> None:
    """Forget routes and broker connections made with the previous Celery configuration."""
    from kombu import pools

    from workflow_app.publish import forget_publishers

    forget_publishers()  # the Redis fast path's messages and connection
    app.amqp.flush_routes()
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu keeps producer pools per connection, process-wide


@contextmanager
def celery_configured(**conf):
    """The Celery app with ``conf`` applied and fresh broker connections; restored after."""
    from workflow_app.celery import app

    saved = {k: app.conf.get(k) for k in conf}
    app.conf.update(conf)
    reset_celery_connections(app)
    try:
        yield app
    finally:
        app.conf.update(saved)
        reset_celery_connections(app)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (a request in another test may have activated
    English in this thread)."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def samr(db):
    return DepartmentFactory(code="SAMR", name="市场监督管理局")


@pytest.fixture
def emb(db):
    return DepartmentFactory(code="EMB", name="应急管理局")


@pytest.fixture
def company(db):
    return SubjectFactory(name="深圳市坪山示例科技有限公司")


@pytest.fixture
def applicant(db, company):
    return UserFactory(username="applicant", role="applicant", subject=company)


@pytest.fixture
def other_applicant(db):
    return UserFactory(username="applicant2", applicant=True)


@pytest.fixture
def centre_user(db):
    return UserFactory(username="centre", centre=True)


@pytest.fixture
def dept_samr(db, samr):
    return UserFactory(username="dept_samr", role="department", department=samr)


@pytest.fixture
def dept_emb(db, emb):
    return UserFactory(username="dept_emb", role="department", department=emb)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", supervisor=True)


def as_user(client: APIClient, user) -> APIClient:
    client.force_authenticate(user=user)
    return client


@pytest.fixture(autouse=True)
def _broker_not_paused():
    """A test that makes a publish fail must not leave the process skipping publishes."""
    from workflow_app.publish import broker_resume

    broker_resume()
    yield
    broker_resume()
