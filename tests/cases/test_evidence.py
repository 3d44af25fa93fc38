"""One evidence mechanism for every case kind: bytes written only after commit, nothing left by
a rollback, orphans older than a day removed by the sweep."""

from __future__ import annotations

import datetime
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from processes import services as app
from tests.factories import CreditRecordFactory
from tests.processes.helpers import PDF_BYTES
from workflow_app.cases.evidence import evidence_remove_orphans

pytestmark = pytest.mark.django_db


def _pdf(name="proof.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def _file_repair(applicant, record, files):
    return app.case_file(
        "repair",
        applicant=applicant,
        record_id=record.pk,
        correction_statement="已缴清",
        commitment_text="承诺",
        commitment_accepted=True,
        files=files,
    )


def test_files_are_written_after_commit(
    applicant, company, samr, django_capture_on_commit_callbacks
):
    record = CreditRecordFactory(subject=company, department=samr)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        repair = _file_repair(applicant, record, [_pdf(), _pdf("second.pdf")])
        ev = list(repair.evidence.all())
        assert len(ev) == 2
        assert not any(default_storage.exists(e.file.name) for e in ev)  # not before commit
    for cb in callbacks:
        cb()
    for e in ev:
        assert default_storage.exists(e.file.name)
        assert e.file.name.startswith(f"evidence/repair/{repair.pk}/")
        with default_storage.open(e.file.name) as fh:
            assert fh.read() == PDF_BYTES
    assert ev[0].sha256 and len(ev[0].sha256) == 64


def test_a_rolled_back_filing_leaves_no_file(
    applicant, company, samr, django_capture_on_commit_callbacks
):
    record = CreditRecordFactory(subject=company, department=samr)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _file_repair(applicant, record, [_pdf()])
                raise RuntimeError("a later step failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not default_storage.exists("evidence/repair")


def test_orphans_older_than_a_day_are_removed(
    applicant, company, samr, django_capture_on_commit_callbacks
):
    record = CreditRecordFactory(subject=company, department=samr)
    with django_capture_on_commit_callbacks(execute=True):
        repair = _file_repair(applicant, record, [_pdf()])
    kept = repair.evidence.get().file.name
    old_orphan = default_storage.save("evidence/repair/999/old.pdf", ContentFile(PDF_BYTES))
    new_orphan = default_storage.save("evidence/repair/999/new.pdf", ContentFile(PDF_BYTES))
    two_days_ago = time.time() - 2 * 86400
    os.utime(default_storage.path(old_orphan), (two_days_ago, two_days_ago))
    os.utime(default_storage.path(kept), (two_days_ago, two_days_ago))

    assert evidence_remove_orphans() == 1
    assert not default_storage.exists(old_orphan)
    assert default_storage.exists(new_orphan)  # younger than a day: maybe still being committed
    assert default_storage.exists(kept)  # referenced by a row
    assert evidence_remove_orphans(older_than=datetime.timedelta(0)) == 1


def test_a_missing_file_answers_404_not_500(applicant, company, samr):
    from django.test import Client

    record = CreditRecordFactory(subject=company, department=samr)
    repair = _file_repair(applicant, record, [_pdf()])  # on_commit never ran: no bytes
    ev = repair.evidence.get()
    web = Client()
    web.force_login(applicant)
    r = web.get(f"/repairs/{repair.pk}/evidence/{ev.pk}/")
    assert r.status_code == 404
