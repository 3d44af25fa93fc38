"""Validation and protection of subject identifiers.

* 统一社会信用代码 (GB 32100-2015): 18 characters from ``0-9A-HJ-NPQRTUWXY``; the 18th is a check
  character over the first 17 with weights 3^i mod 31.
* Resident ID (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character (0-9 or X).
  Never stored in clear: a keyed hash is the lookup key and only a masked form is shown.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from operator import mul

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_CHARS = frozenset(USCC_ALPHABET)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("the check character is computed over 17 characters")
    # map() in C: a batch import checks thousands of codes
    total = sum(map(mul, map(_USCC_VALUES.__getitem__, first17), USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise(value: str) -> str:
    return (value or "").strip().upper()


def validate_uscc(value: str) -> str:
    """Return the normalised code or raise ValidationError with an actionable message."""
    code = normalise(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，您输入了%(n)d位。") % {"n": len(code)},
            code="uscc_length",
        )
    bad = sorted(set(code) - _USCC_CHARS)
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、Z、S、V）。")
            % {"chars": "、".join(bad)},
            code="uscc_chars",
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第18位应为 %(expected)s，请核对后重新输入。")
            % {"expected": expected},
            code="uscc_check",
        )
    return code


def id_check_char(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def validate_resident_id(value: str) -> str:
    number = normalise(value)
    if len(number) != 18:
        raise ValidationError(
            _("居民身份证号码应为18位，您输入了%(n)d位。") % {"n": len(number)},
            code="id_length",
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("居民身份证号码前17位应为数字，最后一位为数字或 X。"), code="id_chars"
        )
    try:
        datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("居民身份证号码中的出生日期无效。"), code="id_birthdate")
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("居民身份证号码校验位错误：最后一位应为 %(expected)s，请核对后重新输入。")
            % {"expected": expected},
            code="id_check",
        )
    return number


def mask_resident_id(number: str) -> str:
    return f"{number[:4]}{'*' * 10}{number[-4:]}"


def resident_id_key(number: str) -> str:
    """Keyed hash used as the lookup identifier of a natural person."""
    key = settings.IDENTIFIER_HASH_KEY.encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def subject_key(kind: str, raw: str) -> tuple[str, str]:
    """Validate ``raw`` for ``kind`` and return (lookup identifier, display identifier)."""
    if kind == "natural_person":
        number = validate_resident_id(raw)
        return resident_id_key(number), mask_resident_id(number)
    if kind != "legal_person":
        raise ValidationError(
            _("主体类型应为 legal_person（法人）或 natural_person（自然人）。"), code="kind"
        )
    code = validate_uscc(raw)
    return code, code


_KEY_RE = re.compile(r"[0-9a-f]{64}")
_ID_SHAPE_RE = re.compile(r"\d{17}[\dX]")


def is_lookup_key(value: str) -> bool:
    """True for the keyed hash under which a natural person is stored (used in page links, so
    that a resident ID never appears in a URL)."""
    return bool(_KEY_RE.fullmatch((value or "").strip()))


def lookup_candidates(raw: str) -> list[tuple[str, str]]:
    """The (kind, lookup identifier) pairs ``raw`` may denote, most likely first.

    Accepts a 统一社会信用代码, a resident ID, or a natural person's stored lookup key. Raises
    ValidationError with the message that fits what the person most likely typed when ``raw``
    is none of them. An 18-digit string can be both a valid code and a valid resident ID, so
    both candidates are returned then.
    """
    value = (raw or "").strip()
    if is_lookup_key(value):
        return [("natural_person", value)]
    value = normalise(value)
    candidates: list[tuple[str, str]] = []
    errors: dict[str, ValidationError] = {}
    try:
        candidates.append(("legal_person", validate_uscc(value)))
    except ValidationError as exc:
        errors["legal_person"] = exc
    try:
        candidates.append(("natural_person", resident_id_key(validate_resident_id(value))))
    except ValidationError as exc:
        errors["natural_person"] = exc
    if candidates:
        return candidates
    if not value:
        raise ValidationError(
            _("请输入统一社会信用代码（18位）或居民身份证号码（18位）。"), code="required"
        )
    if _ID_SHAPE_RE.fullmatch(value):
        raise errors["natural_person"]
    raise errors["legal_person"]


def mask_name(name: str) -> str:
    """A natural person's name as shown to the public: the family name and one * per other
    character (张三丰 → 张**)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def guess_kind(raw: str) -> str:
    """A resident ID is all digits (last may be X); a credit code has letters in it."""
    value = normalise(raw)
    if len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X"):
        # A credit code never starts with two digits followed by 15 digits and a digit check
        # *and* a valid birth date; prefer resident ID only if it validates as one.
        try:
            validate_resident_id(value)
            return "natural_person"
        except ValidationError:
            return "legal_person"
    return "legal_person"
