"""Every write to the registry: subjects, credit records (versioned) and decision documents.

Records are never overwritten: a change creates a new version row and marks the old one
``corrected``; simple-history keeps every row's earlier values with who changed it and why.
The record-level services (mark, status, note) act on the *current* version of the record they
are given, so a case that still points at an older version (because a department pushed a
correction while the case was open) changes what the public actually sees.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from workflow_app.api import Conflict, ServiceError
from workflow_app.compiled import CompiledQuery
from workflow_app.writes import save_with_history

from .bulk import insert_new_with_history, insert_with_history, where_in
from .hooks import public_changed
from .identifiers import subject_key
from .models import (
    Category,
    CreditRecord,
    DecisionDocument,
    Department,
    Nature,
    RecordStatus,
    Severity,
    Subject,
    SubjectKind,
)

MAX_BATCH = 5000
# the codes an item may use (enum ``.values`` builds a new list on every call: 4 × 5,000 per batch)
_KINDS = frozenset(SubjectKind.values)
_CATEGORIES = frozenset(Category.values)
_NATURES = frozenset(Nature.values)
_SEVERITIES = frozenset(Severity.values)
# Fields a department's push may change; anything else belongs to the workflows.
IMPORT_FIELDS = (
    "subject_id",
    "category",
    "nature",
    "severity",
    "title",
    "content",
    "decision_date",
    "publicity_end",
)
# Fields copied into a new version (everything that describes the record).
VERSION_FIELDS = (
    "subject_id",
    "department_id",
    "external_id",
    "category",
    "nature",
    "severity",
    "title",
    "content",
    "decision_date",
    "publicity_start",
    "publicity_end",
    "status",
    "note",
)
CHANGEABLE_FIELDS = frozenset(VERSION_FIELDS) | {"subject", "under_objection"}
SETTABLE_STATUSES = (
    RecordStatus.PUBLISHED,
    RecordStatus.DELETED,
    RecordStatus.REPAIRED,
    RecordStatus.EXPIRED,
)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1
CODE_LENGTH = 16


def _save(obj: Any, *, by: Any, reason: str, **kwargs: Any) -> None:
    obj._change_reason = reason
    obj._history_user = by
    save_with_history(obj, **kwargs)


# --- subjects -----------------------------------------------------------------------------------


def subject_get_or_create(*, kind: str, identifier: str, name: str, by: Any = None) -> Subject:
    """The subject with this identifier, created if new. A natural person is stored under a
    keyed hash of the resident ID with only the masked form kept for display."""
    try:
        key, display = subject_key(kind, identifier)
    except ValidationError as exc:
        message = exc.messages[0]
        raise ServiceError(
            message,
            code="invalid_identifier",
            errors=[{"field": "identifier", "message": message}],
        ) from exc
    name = (name or "").strip()
    existing = Subject.objects.filter(identifier=key).first()
    if existing is not None:
        return existing
    if not name:
        message = _("请填写主体名称。")
        raise ServiceError(
            message, code="name_required", errors=[{"field": "name", "message": message}]
        )
    try:
        with transaction.atomic():
            subject = Subject(
                kind=kind, name=name[:200], identifier=key, identifier_display=display
            )
            _save(subject, by=by, reason="subject registered")
            return subject
    except IntegrityError:  # created concurrently
        return Subject.objects.get(identifier=key)


# --- batch import -------------------------------------------------------------------------------


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _validate_item(item: Any, index: int, today: datetime.date) -> tuple[dict | None, list[dict]]:
    """Check one pushed item. Returns (clean data, errors)."""
    errors: list[dict] = []

    def err(field: str, message: str) -> None:
        errors.append(
            {"index": index, "external_id": external_id, "field": field, "message": message}
        )

    if not isinstance(item, dict):
        external_id = None
        err("", _("每条数据应为一个 JSON 对象。"))
        return None, errors
    raw_external = item.get("external_id")
    external_id = _text(raw_external) if not isinstance(raw_external, int) else str(raw_external)
    if not external_id:
        err("external_id", _("请填写外部编号（external_id），它是本单位对该条信息的唯一编号。"))
    elif len(external_id) > 100:
        err("external_id", _("外部编号不能超过100个字符。"))

    clean: dict[str, Any] = {"external_id": external_id}
    subject = item.get("subject")
    if not isinstance(subject, dict):
        err("subject", _("请提供主体信息：{kind, identifier, name}。"))
    else:
        kind = subject.get("kind")
        identifier = _text(subject.get("identifier"))
        name = _text(subject.get("name"))
        if kind not in _KINDS:
            err("subject.kind", _("主体类型应为 legal_person（法人）或 natural_person（自然人）。"))
        elif not identifier:
            err("subject.identifier", _("请填写主体的统一社会信用代码或身份证号码。"))
        else:
            try:
                key, display = subject_key(kind, identifier)
                clean["subject"] = {"kind": kind, "key": key, "display": display, "name": name}
            except ValidationError as exc:
                err("subject.identifier", exc.messages[0])
        if not name:
            err("subject.name", _("请填写主体名称。"))
        elif len(name) > 200:
            err("subject.name", _("主体名称不能超过200个字符。"))

    category = item.get("category")
    if category not in _CATEGORIES:
        err(
            "category",
            _("信息类别应为以下之一：%(codes)s。") % {"codes": ", ".join(Category.values)},
        )
    nature = item.get("nature")
    if nature not in _NATURES:
        err("nature", _("信息性质应为以下之一：%(codes)s。") % {"codes": ", ".join(Nature.values)})
    severity = item.get("severity") or ""
    if nature == Nature.DISHONESTY:
        if severity not in _SEVERITIES:
            err(
                "severity",
                _("失信信息须填写严重程度，应为以下之一：%(codes)s。")
                % {"codes": ", ".join(Severity.values)},
            )
    elif severity:
        err("severity", _("只有失信信息才有严重程度，守信和中性信息请留空。"))
    clean.update(category=category, nature=nature, severity=severity)

    title = _text(item.get("title"))
    if not title:
        err("title", _("请填写标题。"))
    elif len(title) > 300:
        err("title", _("标题不能超过300个字符。"))
    content = item.get("content")
    if content is not None and not isinstance(content, str):
        err("content", _("内容应为文本。"))
    clean.update(title=title, content=_text(content))

    decision_date = _parse_date(item.get("decision_date"))
    if item.get("decision_date") in (None, ""):
        err("decision_date", _("请填写决定日期（YYYY-MM-DD）。"))
    elif decision_date is None:
        err("decision_date", _("决定日期格式应为 YYYY-MM-DD，例如 2025-03-18。"))
    elif decision_date > today:
        err("decision_date", _("决定日期不能晚于今天。"))
    publicity_end = None
    raw_end = item.get("publicity_end")
    if raw_end not in (None, ""):
        publicity_end = _parse_date(raw_end)
        if publicity_end is None:
            err("publicity_end", _("公示截止日期格式应为 YYYY-MM-DD，例如 2028-03-18。"))
        elif decision_date is not None and publicity_end < decision_date:
            err("publicity_end", _("公示截止日期不能早于决定日期。"))
    clean.update(decision_date=decision_date, publicity_end=publicity_end)
    return (None if errors else clean), errors


def _subjects_for(items: list[dict], by: Any, department: Department) -> dict[str, int]:
    """Ids of the batch's subjects by lookup key: existing ones in one query (ids only — no
    model instances for thousands of subjects), new ones bulk-created."""
    wanted: dict[str, dict] = {}
    for item in items:
        wanted.setdefault(item["subject"]["key"], item["subject"])
    found: dict[str, int] = dict(
        where_in(Subject.objects.values_list("identifier", "id"), "identifier", wanted)
    )
    missing = [
        Subject(kind=s["kind"], name=s["name"], identifier=key, identifier_display=s["display"])
        for key, s in wanted.items()
        if key not in found
    ]
    if missing:
        reason = f"subject registered by record import ({department.code})"
        try:
            with transaction.atomic():
                created = insert_with_history(missing, Subject, user=by, reason=reason)
            found.update({s.identifier: s.pk for s in created})
        except IntegrityError:  # another batch registered some of them meanwhile
            for subject in missing:
                found[subject.identifier] = _subject_by_key(subject, by).pk
    return found


def _subject_by_key(subject: Subject, by: Any) -> Subject:
    existing = Subject.objects.filter(identifier=subject.identifier).first()
    if existing is not None:
        return existing
    _save(subject, by=by, reason="subject registered by record import")
    return subject


def _new_version_row(old: CreditRecord, changes: dict[str, Any]) -> CreditRecord:
    values: dict[str, Any] = {field: getattr(old, field) for field in VERSION_FIELDS}
    values["under_objection"] = False
    for field, value in changes.items():
        if field == "subject":
            values["subject_id"] = value.pk
        else:
            values[field] = value
    return CreditRecord(**values, version=old.version + 1, previous_version=old)


def _pushed_values(item: dict, subject_id: int) -> dict[str, Any]:
    """The values of a record a department's push sets (``IMPORT_FIELDS``), from a clean item."""
    return {
        "subject_id": subject_id,
        "category": item["category"],
        "nature": item["nature"],
        "severity": item["severity"],
        "title": item["title"],
        "content": item["content"],
        "decision_date": item["decision_date"],
        "publicity_end": item["publicity_end"],
    }


def _import_changes(current: CreditRecord, item: dict, subject_id: int) -> dict[str, Any]:
    wanted = _pushed_values(item, subject_id)
    changes = {f: v for f, v in wanted.items() if getattr(current, f) != v}
    if "decision_date" in changes and current.publicity_start == current.decision_date:
        changes["publicity_start"] = item["decision_date"]
    return changes


def record_import_batch(*, department: Department, items: list[dict], by: Any) -> dict:
    """Upsert a department's batch of records, idempotent by (department, external id).

    Every item is checked first; if any is invalid nothing is stored and every problem is
    reported with its index. An item identical to the current version changes nothing; a
    changed item creates a new version (the old one becomes ``corrected``).
    """
    if not isinstance(items, list) or not items:
        raise ServiceError(_("批次为空：请至少提供一条信用信息。"), code="empty_batch")
    if len(items) > MAX_BATCH:
        raise ServiceError(
            _("一个批次最多 %(max)d 条，本批 %(n)d 条，请拆分后分批推送。")
            % {"max": MAX_BATCH, "n": len(items)},
            code="batch_too_large",
        )
    today = timezone.localdate()
    cleaned: list[dict] = []
    errors: list[dict] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(items):
        clean, item_errors = _validate_item(raw, index, today)
        external_id = (clean or {}).get("external_id") or (
            item_errors[0]["external_id"] if item_errors else None
        )
        if external_id:
            if external_id in first_index:
                item_errors.append(
                    {
                        "index": index,
                        "external_id": external_id,
                        "field": "external_id",
                        "message": _(
                            "外部编号与本批第 %(n)d 条重复，同一批次内每个编号只能出现一次。"
                        )
                        % {"n": first_index[external_id] + 1},
                    }
                )
            else:
                first_index[external_id] = index
        errors.extend(item_errors)
        if clean is not None:
            cleaned.append(clean)
    if errors:
        bad = len({e["index"] for e in errors})
        raise ServiceError(
            _("批次中有 %(n)d 条数据有误，整批未导入。") % {"n": bad},
            code="invalid_batch",
            errors=errors,
        )
    try:
        return _import(department=department, items=cleaned, by=by)
    except IntegrityError as exc:
        raise Conflict(
            _("同一批信用信息正在被另一请求导入，请稍后重新推送（重复推送不会产生重复数据）。"),
            code="import_conflict",
        ) from exc


def _import(*, department: Department, items: list[dict], by: Any) -> dict:
    reason = f"record import ({department.code})"
    with transaction.atomic():
        subjects = _subjects_for(items, by, department)
        external_ids = [item["external_id"] for item in items]
        current: dict[str, CreditRecord] = {
            record.external_id: record
            for record in where_in(
                CreditRecord.objects.select_for_update()
                .filter(department=department)
                .exclude(status=RecordStatus.CORRECTED),
                "external_id",
                external_ids,
            )
        }

        new_rows: list[dict[str, Any]] = []
        replaced: list[CreditRecord] = []
        new_versions: list[CreditRecord] = []
        for item in items:
            subject_id = subjects[item["subject"]["key"]]
            old = current.get(item["external_id"])
            if old is None:
                new_rows.append(
                    {
                        **_pushed_values(item, subject_id),
                        "department_id": department.pk,
                        "external_id": item["external_id"],
                        "version": 1,
                        "publicity_start": item["decision_date"],
                        "status": RecordStatus.PUBLISHED,
                    }
                )
                continue
            changes = _import_changes(old, item, subject_id)
            if not changes:
                continue
            # An open objection stays visible on the new version (its case follows the chain).
            changes["under_objection"] = old.under_objection
            new_versions.append(_new_version_row(old, changes))
            old.status = RecordStatus.CORRECTED
            old.under_objection = False
            old.updated_at = timezone.now()
            replaced.append(old)

        if replaced:
            bulk_update_with_history(
                replaced,
                CreditRecord,
                ["status", "under_objection", "updated_at"],
                default_user=by,
                default_change_reason=f"{reason}: replaced by a new version",
            )
        # one time for the batch's rows and history, new records and new versions alike
        now = timezone.now()
        to_create = insert_new_with_history(CreditRecord, new_rows, user=by, reason=reason, now=now)
        department_cache = CreditRecord.department.field  # listeners read record.department
        for row in to_create:
            department_cache.set_cached_value(row, department)
        if new_versions:
            new_versions = insert_with_history(
                new_versions, CreditRecord, user=by, reason=reason, now=now
            )
        created_rows = to_create + new_versions
        for row in created_rows:
            current[row.external_id] = row
        public_changed(records=[r for r in created_rows if r.version == 1], change="created", by=by)
        public_changed(
            records=[r for r in created_rows if r.version > 1], change="corrected", by=by
        )
    return {
        "created": len(to_create),
        "updated": len(new_versions),
        "records": [
            {"external_id": item["external_id"], "id": current[item["external_id"]].pk}
            for item in items
        ],
    }


# --- single-record changes ----------------------------------------------------------------------


def record_create(
    *,
    subject: Subject,
    department: Department,
    external_id: str,
    category: str,
    nature: str,
    severity: str,
    title: str,
    content: str,
    decision_date: datetime.date,
    publicity_end: datetime.date | None,
    by: Any,
    reason: str,
    case: dict[str, Any] | None = None,
) -> CreditRecord:
    """Publish one record made by the platform itself (e.g. a confirmed breach of a commitment,
    违背信用承诺), with history, announced like a pushed record."""
    with transaction.atomic():
        record = CreditRecord(
            subject=subject,
            department=department,
            external_id=external_id[:100],
            version=1,
            category=category,
            nature=nature,
            severity=severity,
            title=title[:300],
            content=content,
            decision_date=decision_date,
            publicity_start=decision_date,
            publicity_end=publicity_end,
            status=RecordStatus.PUBLISHED,
        )
        _save(record, by=by, reason=reason)
        public_changed(records=[record], change="created", case=case, by=by)
        return record


_RECORD_LOCKED = CompiledQuery(
    lambda pk: CreditRecord.objects.select_for_update().filter(pk=pk)[:2], int
)


def _locked_current(record: CreditRecord, *, held: bool = False) -> CreditRecord:
    """The current version of ``record``'s chain, locked (``held``: ``record`` was itself read
    under lock in this transaction, so it is not read again)."""
    row = record if held else _RECORD_LOCKED.one(record.pk)
    seen = 0
    while row.status == RecordStatus.CORRECTED and seen < 1000:
        nxt = CreditRecord.objects.select_for_update().filter(previous_version=row).first()
        if nxt is None:
            break
        row, seen = nxt, seen + 1
    return row


# A filing's read of the record it is about, with its department and subject: the record locked
# — and, for a filing whose rules count the subject's other cases (a repair), the subject too, so
# that one subject's such filings go one after another — never the department's row, which every
# filing on that department's records would otherwise wait for.
def _record_for_filing(*lock: str) -> CompiledQuery[CreditRecord]:
    return CompiledQuery(
        lambda pk: (
            CreditRecord.objects.select_for_update(of=lock)
            .select_related("department", "subject")
            .filter(pk=pk)[:1]
        ),
        int,
    )


_RECORD_FOR_FILING = {
    False: _record_for_filing("self"),
    True: _record_for_filing("self", "subject"),
}


def record_lock_for_filing(record_id: Any, *, subject: bool = False) -> CreditRecord | None:
    """The credit record ``record_id`` with its department and subject, the record locked (and
    its subject: ``subject=True``); ``None`` when there is no such record (or the id is not a
    number)."""
    try:
        return _RECORD_FOR_FILING[subject].first(int(record_id))
    except (TypeError, ValueError, OverflowError):
        return None


def subject_lock_shared(pk: int) -> Subject:
    """The subject ``pk``, locked against change while the caller's transaction reads it: on
    PostgreSQL ``FOR SHARE`` — readers that lock it so (one subject's commitment signings, each
    checking that the subject is not excluded) go on side by side, while a change that locks it
    ``FOR UPDATE`` (a list entry) waits for them, and they for it. (SQLite: one writer at a
    time anyway.) ``Subject.DoesNotExist`` when there is no such subject."""
    if connection.vendor != "postgresql":
        return Subject.objects.get(pk=pk)
    qn = connection.ops.quote_name
    rows = list(
        Subject.objects.raw(
            f"SELECT * FROM {qn(Subject._meta.db_table)} WHERE {qn('id')} = %s FOR SHARE",
            [int(pk)],
        )
    )
    if not rows:
        raise Subject.DoesNotExist(f"no subject {pk}")
    return rows[0]


def record_current_locked(record: CreditRecord, *, held: bool = False) -> CreditRecord:
    """The current version of ``record``'s chain, locked (a case filed on an older version
    follows the chain when the department has pushed a correction since). Pass it on to the
    ``record_set_*`` services with ``locked=True`` in the same transaction: they then change
    this row instead of locking it again. ``held``: ``record`` itself was read under lock in
    this transaction (``record_lock_for_filing``): it is not read again."""
    return _locked_current(record, held=held)


def _row_to_change(record: CreditRecord, locked: bool) -> CreditRecord:
    return record if locked else _locked_current(record)


def _sync(target: CreditRecord, source: CreditRecord) -> None:
    """Keep the caller's instance in step when it is the row that changed."""
    if target.pk == source.pk:
        for field in ("status", "under_objection", "note", "publicity_end", "updated_at"):
            setattr(target, field, getattr(source, field))


def record_new_version(
    *,
    record: CreditRecord,
    changes: dict[str, Any],
    by: Any,
    reason: str,
    case: dict[str, Any] | None = None,
) -> CreditRecord:
    """Replace ``record`` by a new version with ``changes`` applied; the old row becomes
    ``corrected``. The under-objection mark is carried only if ``changes`` says so."""
    unknown = set(changes) - CHANGEABLE_FIELDS
    if unknown:
        raise ServiceError(
            _("不能修改这些字段：%(fields)s。") % {"fields": ", ".join(sorted(unknown))},
            code="invalid_fields",
        )
    if changes.get("status") == RecordStatus.CORRECTED:
        raise ServiceError(_("新版本不能是“已更正”状态。"), code="invalid_status")
    with transaction.atomic(savepoint=False):
        old = CreditRecord.objects.select_for_update().get(pk=record.pk)
        if old.status == RecordStatus.CORRECTED:
            raise Conflict(
                _("该信用信息已被更新为新版本，请按最新版本处理。"), code="not_current_version"
            )
        new = _new_version_row(old, changes)
        old.status = RecordStatus.CORRECTED
        old.under_objection = False
        _save(old, by=by, reason=f"{reason} (replaced by version {old.version + 1})")
        _save(new, by=by, reason=reason)
        _sync(record, old)
        public_changed(records=[new], change="corrected", case=case, by=by)
        return new


def record_set_objection_mark(
    *, record: CreditRecord, marked: bool, by: Any, reason: str, locked: bool = False
) -> None:
    """Set or remove the under-objection mark on the record's current version (``locked``:
    ``record`` is that version, from :func:`record_current_locked` in this transaction)."""
    with transaction.atomic(savepoint=False):
        row = _row_to_change(record, locked)
        if row.under_objection == marked:
            return
        row.under_objection = marked
        _save(row, by=by, reason=reason)
        _sync(record, row)


def record_set_status(
    *,
    record: CreditRecord,
    status: str,
    by: Any,
    reason: str,
    note: str | None = None,
    publicity_end: datetime.date | None = None,
    case: dict[str, Any] | None = None,
    locked: bool = False,
) -> None:
    """Change the publication status of the record's current version (``deleted``,
    ``repaired``, ``published`` again, ``expired``); optionally its note and publicity end
    (``locked`` as for :func:`record_set_objection_mark`)."""
    if status not in SETTABLE_STATUSES:
        raise ServiceError(
            _("公示状态只能改为：%(codes)s。") % {"codes": ", ".join(SETTABLE_STATUSES)},
            code="invalid_status",
        )
    with transaction.atomic(savepoint=False):
        row = _row_to_change(record, locked)
        row.status = status
        if status != RecordStatus.PUBLISHED:
            row.under_objection = False
        if note is not None:
            row.note = note
        if publicity_end is not None:
            row.publicity_end = publicity_end
        _save(row, by=by, reason=reason)
        _sync(record, row)
        public_changed(records=[row], change=status, case=case, by=by)


def record_set_note(
    *, record: CreditRecord, note: str, by: Any, reason: str, locked: bool = False
) -> None:
    """Set the public note shown with the record (e.g. an objection could not be confirmed;
    ``locked`` as for :func:`record_set_objection_mark`)."""
    with transaction.atomic(savepoint=False):
        row = _row_to_change(record, locked)
        row.note = note or ""
        _save(row, by=by, reason=reason)
        _sync(record, row)


# --- decision documents -------------------------------------------------------------------------


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_code() -> str:
    return format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def verification_code_new() -> str:
    """A fresh public verification code (decision documents, issued credit reports)."""
    return _new_code()


# the unique index is the guard; this read picks another code instead of failing the decision
_CODE_TAKEN = CompiledQuery(
    lambda code: DecisionDocument.objects.filter(code=code).only("pk").order_by("pk")[:1], str
)


def decision_issue(
    *,
    case_kind: str,
    case_id: int,
    case_reference: str,
    subject: Subject,
    record: CreditRecord | None,
    title: str,
    decision: str,
    issued_by: str,
    summary: str = "",
    summary_code: str = "",
    summary_params: dict[str, Any] | None = None,
    by: Any = None,
) -> DecisionDocument:
    """Issue a decision document with a fresh public verification code."""
    with transaction.atomic(savepoint=False):
        for _attempt in range(5):
            code = _new_code()
            if _CODE_TAKEN.first(code) is None:
                break
        document = DecisionDocument(
            code=code,
            case_kind=case_kind,
            case_id=case_id,
            case_reference=case_reference,
            subject=subject,
            record=record,
            title=str(title)[:200],
            decision=str(decision)[:40],
            summary=str(summary),
            summary_code=summary_code,
            summary_params=summary_params or {},
            issued_at=timezone.now(),
            issued_by=str(issued_by)[:100],
        )
        _save(document, by=by, reason=f"issued for {case_kind} {case_reference}")
        return document


def decision_revoke(*, document: DecisionDocument, reason: str, by: Any) -> DecisionDocument:
    """Mark a decision document revoked; the public verification then says so."""
    if not (reason or "").strip():
        raise ServiceError(_("撤销决定文书须说明理由。"), code="reason_required")
    with transaction.atomic(savepoint=False):
        doc = DecisionDocument.objects.select_for_update().get(pk=document.pk)
        if doc.status == DecisionDocument.Status.REVOKED:
            raise Conflict(_("该决定文书已于此前撤销。"), code="already_revoked")
        doc.status = DecisionDocument.Status.REVOKED
        doc.revoked_at = timezone.now()
        doc.revocation_reason = reason.strip()
        _save(doc, by=by, reason=f"revoked: {reason.strip()}")
        for field in ("status", "revoked_at", "revocation_reason"):
            setattr(document, field, getattr(doc, field))
        return doc


# --- list flags ---------------------------------------------------------------------------------


def subject_set_list_flag(*, subject: Subject, list_type: str, on: bool, by: Any) -> Subject:
    """Set or clear the subject's red-list (``"red"``) or black-list (``"black"``) flag, with
    history, on the locked row. Only the red/black list services call this: the flags mirror the
    subject's active list entries, and other workflows read them."""
    fields = {"red": "red_list", "black": "black_list"}
    if list_type not in fields:
        raise ServiceError(_("名单类型应为 red（红名单）或 black（黑名单）。"), code="invalid_list")
    field = fields[list_type]
    with transaction.atomic(savepoint=False):
        row = Subject.objects.select_for_update().get(pk=subject.pk)
        if getattr(row, field) != on:
            setattr(row, field, on)
            action = "joined" if on else "left"
            _save(row, by=by, reason=f"{action} the {list_type} list", update_fields=[field])
        setattr(subject, field, on)
        return row
