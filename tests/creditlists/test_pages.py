"""The public list pages: 守信红名单 and 失信黑名单, legal persons only, search, empty state."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from creditlists.models import EntryStatus, ListEntry
from creditlists.services import list_leave
from tests.creditlists.conftest import join
from tests.factories import DepartmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db


def test_black_list_page_shows_active_entries_with_links(client, company, dept_samr):
    join(company, dept_samr, list_type="black")
    left = join(SubjectFactory(name="已移出企业"), dept_samr, list_type="black")
    list_leave(
        entry=left,
        reason="移出",
        decision_reference="文号",
        left_on=datetime.date(2025, 7, 1),
        by=dept_samr,
    )
    join(SubjectFactory(name="红名单企业"), dept_samr, list_type="red")

    r = client.get("/lists/black/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "失信黑名单" in page
    assert company.name in page
    assert company.identifier_display in page
    assert "市场监督管理局" in page
    assert "深市监信〔2025〕1号" in page
    assert "因严重违法失信行为被列入。" in page
    assert f'href="{reverse("report", args=[company.identifier])}"' in page
    assert "已移出企业" not in page and "红名单企业" not in page
    # strict CSP: no inline scripts or styles
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page and "<style" not in page


def test_red_list_page(client, dept_samr):
    join(SubjectFactory(name="诚信示范企业"), dept_samr, list_type="red")
    page = client.get("/lists/red/").content.decode()
    assert "守信红名单" in page and "诚信示范企业" in page


def test_search_by_name_and_code(client, company, dept_samr):
    join(company, dept_samr)
    other = SubjectFactory(name="宝安另一家公司")
    join(other, dept_samr)

    page = client.get("/lists/black/", {"q": "坪山"}).content.decode()
    assert company.name in page and other.name not in page
    page = client.get("/lists/black/", {"q": other.identifier_display.lower()}).content.decode()
    assert other.name in page and company.name not in page


def test_empty_states(client, company, dept_samr):
    page = client.get("/lists/red/").content.decode()
    assert 'id="list-empty"' in page and "名单中暂无主体" in page
    join(company, dept_samr)
    page = client.get("/lists/black/", {"q": "没有这家公司"}).content.decode()
    assert 'id="list-empty"' in page and "没有这家公司" in page


def test_natural_persons_never_appear(client, samr):
    """Even an entry written around the services (old data) is not shown for a natural person."""
    person = SubjectFactory(natural=True, name="张三")
    ListEntry.objects.create(
        subject=person,
        list_type="black",
        department=samr,
        reason="理由",
        decision_reference="文号",
        joined_on=datetime.date(2025, 6, 6),
        status=EntryStatus.ACTIVE,
        joined_at=datetime.datetime(2025, 6, 6, tzinfo=datetime.UTC),
    )
    page = client.get("/lists/black/").content.decode()
    assert "张三" not in page
    assert "名单中暂无主体" in page


def test_pagination_keeps_the_search(client, dept_samr):
    department = DepartmentFactory(code="SAMR")
    assert department == dept_samr.department
    for n in range(25):
        join(SubjectFactory(name=f"分页测试企业{n:02d}"), dept_samr)
    page = client.get("/lists/black/", {"q": "分页测试"}).content.decode()
    assert "共 25 个主体" in page
    assert "q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;page=2" in page
    page2 = client.get("/lists/black/", {"q": "分页测试", "page": 2}).content.decode()
    assert page2.count("分页测试企业") == 5


def test_odd_search_input_is_harmless(client, api, company, dept_samr):
    join(company, dept_samr)
    # a NUL in the query string is refused as bad input by the project's guard, not a 500
    assert client.get("/lists/black/", {"q": "坪山\x00"}).status_code == 400
    page = client.get("/lists/black/", {"q": "x" * 500, "page": "abc"})
    assert page.status_code == 200 and company.name in page.content.decode()
    assert api.get("/api/v1/lists/black/", {"q": "坪山"}).json()["count"] == 1
