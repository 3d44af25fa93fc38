"""The demo's flagged subjects appear on the public list pages through real list entries."""

from __future__ import annotations

from django.core.management import call_command

from creditlists.models import ListEntry, NationalReport


def test_seed_demo_lists_flagged_subjects_once(db, client):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    entries = ListEntry.objects.select_related("subject")
    assert sorted((e.list_type, e.subject.name) for e in entries) == [
        ("black", "深圳市宝安示例制造有限公司"),
        ("red", "深圳市福田示例贸易有限公司"),
    ]
    assert NationalReport.objects.filter(reported_on__isnull=False).count() == 1
    assert "深圳市宝安示例制造有限公司" in client.get("/lists/black/").content.decode()
    assert "深圳市福田示例贸易有限公司" in client.get("/lists/red/").content.decode()
