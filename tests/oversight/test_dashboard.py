"""Dashboard figures against a hand-counted fixture.

Today is Monday 2026-11-30, 10:00 (Shanghai). Wednesday 18 and Thursday 19 November are declared
holidays (administrator rows), so the working days from Friday 13 November to today are 16, 17,
20, 23–27 and 30: nine, not eleven — the holiday moves that deadline from "11–30" to "6–10".
"""

from __future__ import annotations

import datetime
from statistics import median

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import as_user
from tests.factories import CreditRecordFactory, SubjectFactory, UserFactory
from workflow_app.registry.models import CreditRecord
from workflow_app.workdays.calendar import TZ, invalidate_cache
from workflow_app.workdays.models import CalendarDay, Deadline

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)


def at(day: str, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def due(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=23, minute=59, second=59, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _calendar(db):
    invalidate_cache()
    for day in ("2026-11-18", "2026-11-19"):
        CalendarDay.objects.create(date=datetime.date.fromisoformat(day), kind="holiday")
    invalidate_cache()
    yield
    invalidate_cache()


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


_case_ids = iter(range(1000, 9999))


def deadline(
    kind,
    dept,
    *,
    step="intake",
    due_day,
    status="open",
    closed=None,
    start=None,
    queue="centre",
    remind=None,
):
    case_id = next(_case_ids)
    return Deadline.objects.create(
        case_kind=kind,
        case_id=case_id,
        case_reference=f"REF-{case_id}",
        kind=step,
        start_at=start or at("2026-11-02", 9),
        amount=2,
        due_at=due(due_day),
        remind_at=remind or due(due_day) - datetime.timedelta(days=2),
        status=status,
        closed_at=closed,
        queue=queue,
        department=dept,
    )


@pytest.fixture
def fixture(samr, emb):
    # open staff steps — objection, SAMR
    deadline("objection", samr, due_day="2026-11-27")  # A: 1 working day late → 1–5
    deadline("objection", samr, due_day="2026-11-20")  # B: 6 → 6–10
    deadline("objection", samr, due_day="2026-11-13")  # D: 9 (11 without the holiday) → 6–10
    deadline("objection", samr, due_day="2026-12-01", remind=at("2026-11-30", 0))  # E: due soon
    deadline("objection", samr, due_day="2026-12-10", remind=at("2026-12-09", 0))  # F: open
    deadline("objection", samr, due_day="2026-11-20", queue="applicant")  # G: not staff work
    # open — repair, EMB
    deadline("repair", emb, step="decision", due_day="2026-11-26")  # H: 2 → 1–5
    # completed — objection SAMR: within 30 days 3 on time + 1 late, one more on time at 46 days
    deadline(
        "objection",
        samr,
        due_day="2026-11-17",
        status="met",
        start=at("2026-11-16", 9),
        closed=at("2026-11-17", 15),
    )  # 1 working day
    deadline(
        "objection",
        samr,
        due_day="2026-11-20",
        status="met",
        start=at("2026-11-17", 9),
        closed=at("2026-11-20", 15),
    )  # 1 (18, 19 holidays)
    deadline(
        "objection",
        samr,
        due_day="2026-11-13",
        status="met",
        start=at("2026-11-09", 9),
        closed=at("2026-11-13", 15),
    )  # 4
    deadline(
        "objection",
        samr,
        due_day="2026-11-25",
        status="met",
        start=at("2026-11-23", 9),
        closed=at("2026-11-27", 15),
    )  # 4, late
    deadline(
        "objection",
        samr,
        due_day="2026-10-16",
        status="met",
        start=at("2026-10-14", 9),
        closed=at("2026-10-15", 15),
    )  # 1, at 46 days
    return samr, emb


def get_dashboard(user, **params):
    from rest_framework.test import APIClient

    client = as_user(APIClient(), user)
    return client.get(reverse("api-dashboard"), params)


def test_figures_match_the_hand_count(fixture, supervisor):
    response = get_dashboard(supervisor)
    assert response.status_code == 200, response.content
    data = response.json()
    by_kind = {w["kind"]: w for w in data["workflows"]}
    objection, repair = by_kind["objection"], by_kind["repair"]

    assert objection["open_steps"] == 5  # the applicant's supplement period is not staff work
    assert objection["overdue"] == 3
    assert objection["due_soon"] == 1
    assert objection["overdue_age"] == {"1-5": 1, "6-10": 2, "11-30": 0, "31+": 0}
    assert repair["overdue"] == 1 and repair["overdue_age"]["1-5"] == 1
    assert data["totals"]["overdue"] == 4
    assert data["totals"]["overdue_age"] == {"1-5": 2, "6-10": 2, "11-30": 0, "31+": 0}

    assert (objection["completed_30"], objection["on_time_30"]) == (4, 3)
    assert objection["on_time_share_30"] == 0.75
    assert (objection["completed_90"], objection["on_time_90"]) == (5, 4)
    assert objection["on_time_share_90"] == 0.8

    (intake,) = objection["median_working_days"]
    assert intake["completed"] == 5
    assert intake["median"] == median([1, 1, 4, 4, 1]) == 1

    # oldest overdue first: D (13 Nov), then B (20 Nov), the repair (26 Nov), A (27 Nov)
    oldest = [(t["kind"], t["due_at"][:10], t["days_late"]) for t in data["oldest_overdue"]]
    assert oldest == [
        ("objection", "2026-11-13", 9),
        ("objection", "2026-11-20", 6),
        ("repair", "2026-11-26", 2),
        ("objection", "2026-11-27", 1),
    ]
    departments = {d["code"]: d for d in data["departments"]}
    assert departments["SAMR"]["overdue"] == 3 and departments["EMB"]["overdue"] == 1

    # weekly throughput: completed steps per week (weeks start on Monday)
    weekly = {w["week"]: w["completed"] for w in objection["weekly"]}
    assert len(weekly) == 12
    assert weekly["2026-11-09"] == 1
    assert weekly["2026-11-16"] == 2
    assert weekly["2026-11-23"] == 1
    assert weekly["2026-10-12"] == 1


def test_department_caseworker_sees_only_their_department(fixture, samr, dept_samr, dept_emb):
    data = get_dashboard(dept_samr, department="EMB").json()
    assert data["scope"]["department"] == "SAMR" and data["scope"]["department_locked"]
    assert data["totals"]["overdue"] == 3
    assert {d["code"] for d in data["departments"]} == {"SAMR"}
    assert all(t["department"] == "SAMR" for t in data["oldest_overdue"])

    emb = get_dashboard(dept_emb).json()
    assert emb["totals"]["overdue"] == 1
    assert {w["kind"]: w["overdue"] for w in emb["workflows"]}["repair"] == 1


def test_supervisor_filters_by_department_and_dates(fixture, supervisor):
    data = get_dashboard(supervisor, department="EMB").json()
    assert data["totals"]["overdue"] == 1
    narrow = get_dashboard(supervisor, date_from="2026-11-16", date_to="2026-11-22").json()
    (intake,) = {w["kind"]: w for w in narrow["workflows"]}["objection"]["median_working_days"]
    assert intake["completed"] == 2  # closed 17 and 20 November


def test_bad_input_and_roles(fixture, supervisor, applicant):
    bad = get_dashboard(supervisor, date_from="2026-13-01")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["message"]
    reversed_range = get_dashboard(supervisor, date_from="2026-11-20", date_to="2026-11-01")
    assert reversed_range.status_code == 400
    unknown = get_dashboard(supervisor, department="NOPE")
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["message"]
    assert get_dashboard(applicant).status_code == 403


def test_every_figure_links_to_its_list(fixture, supervisor, client):
    client.force_login(supervisor)
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="age-chart"' in html and "<svg" in html
    # the 6–10 bucket of objections lists exactly B and D
    data = get_dashboard(supervisor).json()
    url = {w["kind"]: w for w in data["workflows"]}["objection"]["urls"]["overdue_age"]["6-10"]
    listing = client.get(url)
    assert listing.status_code == 200
    body = listing.content.decode()
    refs = sorted(
        d.case_reference
        for d in Deadline.objects.filter(due_at__in=[due("2026-11-20"), due("2026-11-13")])
        .exclude(queue="applicant")
        .filter(case_kind="objection", status="open")
    )
    assert len(refs) == 2 and all(r in body for r in refs)
    others = Deadline.objects.filter(due_at=due("2026-11-27"), status="open").values_list(
        "case_reference", flat=True
    )
    assert not any(r in body for r in others)
    # the late completions behind the 90-day share
    late = client.get(
        {w["kind"]: w for w in data["workflows"]}["objection"]["urls"]["late_90"]
    ).content.decode()
    late_ref = Deadline.objects.get(due_at=due("2026-11-25")).case_reference
    assert late_ref in late


def test_dashboard_page_for_a_department_caseworker_shows_their_department(
    fixture, dept_samr, client
):
    client.force_login(dept_samr)
    html = client.get(reverse("dashboard"), {"department": "EMB"}).content.decode()
    assert 'data-department="SAMR"' in html and 'data-department="EMB"' not in html
    assert 'name="department"' not in html  # the department cannot be changed


def test_applicant_gets_403_page(applicant, client):
    client.force_login(applicant)
    assert client.get(reverse("dashboard")).status_code == 403


# --- 双公示 timeliness --------------------------------------------------------------------------


def pushed(dept, *, category, decided, pushed_on, version=1, subject=None):
    record = CreditRecordFactory(
        department=dept,
        subject=subject or SubjectFactory(),
        category=category,
        decision_date=datetime.date.fromisoformat(decided),
        version=version,
    )
    CreditRecord.objects.filter(pk=record.pk).update(created_at=at(pushed_on, 16))
    return record


def test_late_double_publicity_push_is_flagged_and_an_on_time_one_is_not(
    samr, emb, supervisor, client
):
    on_time = pushed(samr, category="licence", decided="2026-11-02", pushed_on="2026-11-16")  # 10
    late = pushed(samr, category="licence", decided="2026-11-02", pushed_on="2026-11-17")  # 11
    # 9 working days thanks to the holidays of 18–19 November (11 without them)
    holiday = pushed(samr, category="penalty", decided="2026-11-06", pushed_on="2026-11-23")
    pushed(emb, category="penalty", decided="2026-11-20", pushed_on="2026-11-24")
    pushed(samr, category="basic", decided="2026-01-02", pushed_on="2026-11-24")  # not 双公示
    data = get_dashboard(supervisor).json()["double_publicity"]
    assert data["days_allowed"] == 10
    assert (data["pushed"], data["late"]) == (4, 1)
    rows = {d["code"]: d for d in data["departments"]}
    assert (rows["SAMR"]["pushed"], rows["SAMR"]["late"]) == (3, 1)
    assert rows["SAMR"]["on_time_share"] == round(2 / 3, 4)
    assert rows["EMB"]["late"] == 0

    client.force_login(supervisor)
    html = client.get(rows["SAMR"]["late_url"]).content.decode()
    assert late.external_id in html
    assert on_time.external_id not in html and holiday.external_id not in html
    assert 'data-record="' + late.external_id + '"' in html


def test_double_publicity_days_follow_the_policy(samr, supervisor):
    from workflow_app.workdays.policy import policy_update

    pushed(samr, category="licence", decided="2026-11-02", pushed_on="2026-11-17")  # 11
    policy_update(
        params={"double_publicity_days": 12},
        effective_from=NOW - datetime.timedelta(days=1),
        note="test",
        by=UserFactory(username="policy-admin", role="admin"),
    )
    assert get_dashboard(supervisor).json()["double_publicity"]["late"] == 0


def test_department_home_page_shows_its_double_publicity(samr, dept_samr, client):
    pushed(samr, category="licence", decided="2026-11-02", pushed_on="2026-11-17")
    client.force_login(dept_samr)
    html = client.get("/").content.decode()
    assert 'id="home-double-publicity"' in html


def test_query_count_does_not_grow_with_cases(fixture, supervisor, django_assert_max_num_queries):
    from oversight import selectors

    scope = selectors.dashboard_scope(supervisor, {})
    with django_assert_max_num_queries(40) as ctx:
        selectors.dashboard(scope)
    first = len(ctx.captured_queries)
    for _ in range(30):
        deadline("objection", None, due_day="2026-11-10")
    with django_assert_max_num_queries(first):
        selectors.dashboard(scope)


# --- red/black lists: reports to the national platform ------------------------------------------


def test_national_reports_overdue_on_the_dashboard(samr, emb, supervisor, dept_samr, client):
    from creditlists.services import list_join, list_report_national

    def join(dept, name, joined_on, by):
        return list_join(
            subject=SubjectFactory(name=name),
            list_type="black",
            department=dept,
            reason="严重违法失信",
            decision_reference=f"{dept.code}〔2026〕{name}",
            joined_on=datetime.date.fromisoformat(joined_on),
            by=by,
        )

    # 10 working days from Monday 2 November, with 18–19 November off: due Monday 16 November
    late = join(samr, "逾期未报企业", "2026-11-02", dept_samr)
    reported = join(samr, "按时报送企业", "2026-11-02", dept_samr)
    list_report_national(
        report=reported.national_reports.get(),
        reported_on=datetime.date(2026, 11, 10),
        national_reference="NAT-1",
        by=dept_samr,
    )
    join(emb, "尚未到期企业", "2026-11-25", UserFactory(username="adm", role="admin"))

    data = get_dashboard(supervisor).json()["national_reports"]
    assert (data["overdue"], data["pending"], data["reported_on_time"]) == (1, 1, 1)
    client.force_login(supervisor)
    html = client.get(data["url"]).content.decode()
    assert late.subject.name in html and reported.subject.name not in html
    assert get_dashboard(dept_samr).json()["national_reports"]["pending"] == 0


# --- daily rollups ----------------------------------------------------------------------------


def step_closed(dept, closed):
    """An objection's intake step started on 27 November and completed at ``closed``."""
    deadline(
        "objection",
        dept,
        due_day="2026-11-30",
        status="met",
        start=at("2026-11-27", 9),
        closed=closed,
    )


def test_rollups_give_the_same_figures_and_today_stays_live(fixture, samr, supervisor):
    from oversight.models import RollupDay, StepDay
    from oversight.rollups import built_until, rollup_build

    pushed(samr, category="licence", decided="2026-11-02", pushed_on="2026-11-17")  # late
    pushed(samr, category="penalty", decided="2026-11-06", pushed_on="2026-11-23")  # on time
    live = get_dashboard(supervisor).json()

    assert rollup_build() > 0
    assert built_until() == datetime.date(2026, 11, 29)  # today is not summed whole before it ends
    days, rows = RollupDay.objects.count(), StepDay.objects.count()
    assert rollup_build() == 0  # nothing twice
    assert (RollupDay.objects.count(), StepDay.objects.count()) == (days, rows)

    rolled = get_dashboard(supervisor).json()
    for key in ("totals", "workflows", "departments", "double_publicity"):
        assert rolled[key] == live[key], key

    # a step completed today after the rollups' reach (ten minutes ago) is read live, beside them
    step_closed(samr, NOW - datetime.timedelta(minutes=5))
    objection = {w["kind"]: w for w in get_dashboard(supervisor).json()["workflows"]}["objection"]
    assert (objection["completed_30"], objection["on_time_30"]) == (5, 4)
    assert {m["step"]: m["completed"] for m in objection["median_working_days"]}["intake"] == 6


def _figures(user):
    data = get_dashboard(user).json()
    return {k: data[k] for k in ("totals", "workflows", "departments", "double_publicity")}


def test_the_day_going_on_is_summed_in_slices_and_again_whole_when_it_ends(
    fixture, samr, supervisor, dept_samr
):
    """A day of a big push is not counted row by row on every dashboard: the builder sums the
    day so far (up to ten minutes ago), a slice per run; the dashboard reads the rollups up to
    there and the base tables after. Figures are the same either way, at every stage."""
    from oversight.models import PublicityDay, RollupPart, StepDay
    from oversight.rollups import ROLLUP_LAG, _split, rollup_build, rollup_part

    def closed_today(hour, minute=0):
        step_closed(samr, NOW.replace(hour=hour, minute=minute))

    closed_today(8)
    record = pushed(samr, category="licence", decided="2026-11-25", pushed_on="2026-11-30")
    CreditRecord.objects.filter(pk=record.pk).update(created_at=NOW.replace(hour=8))
    live = {u.username: _figures(u) for u in (supervisor, dept_samr)}

    rollup_build()  # at 10:00: the days before whole, today up to 09:50
    part = rollup_part()
    assert part is not None and (part.day, part.through) == (NOW.date(), NOW - ROLLUP_LAG)
    today = datetime.date(2026, 11, 30)
    assert StepDay.objects.filter(day=today).exists()
    assert PublicityDay.objects.filter(day=today).exists()
    assert _split(today, today) == ((today, today), (NOW - ROLLUP_LAG, at("2026-12-01", 0)))
    for u in (supervisor, dept_samr):
        assert _figures(u) == live[u.username], u.username

    closed_today(9, 55)  # after the rollups' reach: read live
    closed_today(10, 5)
    with time_machine.travel(NOW + datetime.timedelta(minutes=30), tick=False):
        live = {u.username: _figures(u) for u in (supervisor, dept_samr)}
        rollup_build()  # one more slice, up to 10:20
        assert rollup_part().through == NOW + datetime.timedelta(minutes=20)
        slices = StepDay.objects.filter(day=today).count()
        assert slices >= 2
        for u in (supervisor, dept_samr):
            assert _figures(u) == live[u.username], u.username
        assert rollup_build() == 0 and StepDay.objects.filter(day=today).count() == slices

    # the day has ended: summed again whole, one row per group instead of its slices
    with time_machine.travel(at("2026-12-01", 0).replace(minute=20), tick=False):
        before = {u.username: _figures(u) for u in (supervisor, dept_samr)}
        assert rollup_build() == 1
        assert not RollupPart.objects.filter(day=today).exists()
        rows = list(StepDay.objects.filter(day=today).values("start_day", "step", "completed"))
        assert len(rows) == len({(r["start_day"], r["step"]) for r in rows})
        assert sum(r["completed"] for r in rows) == 3
        for u in (supervisor, dept_samr):
            assert _figures(u) == before[u.username], u.username


def test_a_part_not_next_to_the_whole_days_is_not_read(fixture, supervisor):
    from oversight.models import RollupPart
    from oversight.rollups import built_until, rollup_build, rollup_part

    live = _figures(supervisor)
    rollup_build()
    RollupPart.objects.all().delete()
    RollupPart.objects.create(day=built_until() + datetime.timedelta(days=3), through=NOW)
    assert rollup_part() is None  # the days between are in no rollup: read live
    assert _figures(supervisor) == live


def test_rollup_command(db, capsys):
    from django.core.management import call_command

    call_command("rollup_dashboard", "--rebuild")
    assert capsys.readouterr().out.strip() == "0 day(s) added; no ended day to sum yet"


def test_changing_the_range_on_a_list_keeps_what_it_lists(fixture, supervisor, client):
    client.force_login(supervisor)
    html = client.get(
        reverse("dashboard-steps"), {"kind": "objection", "state": "overdue", "age": "6-10"}
    ).content.decode()
    for name, value in (("kind", "objection"), ("state", "overdue"), ("age", "6-10")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in html
    bad = client.get(reverse("dashboard-sync"), {"date_to": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()


@pytest.mark.parametrize(
    ("url_name", "empty"),
    [
        ("dashboard-sync", "没有超过期限未完成的同步。"),
        ("dashboard-steps", None),
        ("dashboard-publicity", None),
        ("dashboard-national-reports", None),
    ],
)
def test_a_list_with_nothing_in_it_says_so(supervisor, client, url_name, empty):
    """An empty list still shows its table and the row that says it is empty (an empty page
    is falsy: the supervisor who followed an alert there saw a blank page)."""
    client.force_login(supervisor)
    r = client.get(reverse(url_name))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="empty"' in html
    if empty:
        assert empty in html
