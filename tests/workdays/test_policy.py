"""Policy parameters (SPEC §4): defaults, versions, snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from workflow_app.workdays.policy import (
    DEFAULTS,
    current_policy,
    policy_snapshot,
    policy_update,
)

pytestmark = pytest.mark.django_db


def test_defaults_apply_when_no_version_exists():
    version, params = current_policy()
    assert version is None
    assert params == DEFAULTS
    assert params["objection_verification_days"] == 10
    assert params["repair_min_publicity_months"] == {"minor": 0, "general": 3, "serious": 12}
    assert params["max_publicity_months"] == {"minor": 3, "general": 12, "serious": 36}
    assert params["random_check_ratio"]["CCC"] == 0.6
    assert params["random_check_ratio"]["D"] == 1.0


def test_returned_parameters_are_a_copy():
    _, params = current_policy()
    params["random_check_ratio"]["A"] = 0.9
    assert DEFAULTS["random_check_ratio"]["A"] == 0.05


def test_update_creates_a_version_with_full_parameters_and_history(admin_user):
    version = policy_update(
        params={"objection_verification_days": 15, "non_repairable_categories": ["judicial"]},
        by=admin_user,
        note="市政府文件调整",
    )

    current_id, params = current_policy()
    assert current_id == version.pk
    assert params["objection_verification_days"] == 15
    assert params["non_repairable_categories"] == ["judicial"]
    assert params["supplement_days"] == 5
    assert set(version.params) == set(DEFAULTS)
    record = version.history.get()
    assert record.history_user == admin_user
    assert record.history_change_reason == "市政府文件调整"


def test_second_update_builds_on_the_first(admin_user):
    policy_update(params={"supplement_days": 7}, by=admin_user, note="一")
    policy_update(params={"sync_days": 5}, by=admin_user, note="二")
    _, params = current_policy()
    assert params["supplement_days"] == 7 and params["sync_days"] == 5


def test_a_case_snapshot_keeps_the_values_in_force_when_it_was_filed(admin_user):
    filed = policy_snapshot()
    policy_update(params={"objection_intake_days": 5}, by=admin_user, note="延长受理期")

    assert filed == {"version": None, "params": DEFAULTS}
    assert filed["params"]["objection_intake_days"] == 2
    later = policy_snapshot()
    assert later["params"]["objection_intake_days"] == 5
    assert later["version"] is not None


def test_a_future_version_is_not_in_force_yet(admin_user):
    policy_update(
        params={"breach_review_days": 20},
        by=admin_user,
        note="明年起",
        effective_from=timezone.now() + timedelta(days=30),
    )
    assert current_policy() == (None, DEFAULTS)
    _, later = current_policy(timezone.now() + timedelta(days=31))
    assert later["breach_review_days"] == 20


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"objection_days": 3}, "objection_days"),
        ({"supplement_days": "5"}, "supplement_days"),
        ({"supplement_days": True}, "supplement_days"),
        ({"supplement_days": 0}, "supplement_days"),
        ({"repeat_repair_check": "yes"}, "repeat_repair_check"),
        ({"max_publicity_months": {"minor": 3}}, "max_publicity_months"),
        (
            {"random_check_ratio": {**DEFAULTS["random_check_ratio"], "A": 1.5}},
            "random_check_ratio",
        ),
        ({"non_repairable_categories": ["speeding"]}, "speeding"),
    ],
)
def test_invalid_updates_are_refused_with_a_clear_message(admin_user, params, fragment):
    with pytest.raises(ValidationError) as excinfo:
        policy_update(params=params, by=admin_user, note="错误")
    assert fragment in " ".join(excinfo.value.messages)
    assert current_policy()[0] is None


def test_minimum_publicity_may_not_exceed_maximum(admin_user):
    with pytest.raises(ValidationError, match="最短公示期"):
        policy_update(
            params={"repair_min_publicity_months": {"minor": 0, "general": 18, "serious": 12}},
            by=admin_user,
            note="错误",
        )


def test_update_without_a_note_gets_a_default_history_reason(admin_user):
    version = policy_update(params={"sync_days": 4}, by=admin_user, note="")
    assert version.history.get().history_change_reason == "修改政策参数"
