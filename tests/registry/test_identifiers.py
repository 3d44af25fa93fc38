from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from workflow_app.registry.identifiers import (
    lookup_candidates,
    mask_name,
    mask_resident_id,
    resident_id_key,
    subject_key,
    validate_resident_id,
    validate_uscc,
)

VALID_CODE = "91350100M000100Y43"
VALID_ID = "11010519491231002X"


def message(exc: pytest.ExceptionInfo) -> str:
    return exc.value.messages[0]


def test_a_valid_credit_code_passes_and_is_normalised():
    assert validate_uscc(VALID_CODE) == VALID_CODE
    assert validate_uscc(" 91350100m000100y43 ") == VALID_CODE


def test_a_wrong_check_character_names_the_expected_one():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100Y44")
    assert message(exc) == "统一社会信用代码校验位错误：第18位应为 3，请核对后重新输入。"


def test_a_code_of_wrong_length_says_how_long_it_was():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100Y4")
    assert message(exc) == "统一社会信用代码应为18位，您输入了17位。"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_the_standard_excludes_are_refused_by_name(letter):
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100" + letter + "43")
    assert message(exc) == (f"统一社会信用代码含有不允许的字符：{letter}（不使用 I、O、Z、S、V）。")


def test_a_valid_resident_id_passes_with_lowercase_x():
    assert validate_resident_id("11010519491231002x") == VALID_ID


def test_a_resident_id_with_a_bad_check_digit_names_the_expected_one():
    with pytest.raises(ValidationError) as exc:
        validate_resident_id("110105194912310021")
    assert message(exc) == "居民身份证号码校验位错误：最后一位应为 X，请核对后重新输入。"


def test_a_resident_id_with_an_impossible_birth_date_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_resident_id("110105194902300020")
    assert message(exc) == "居民身份证号码中的出生日期无效。"


def test_a_natural_person_key_is_a_hash_and_the_display_is_masked():
    key, display = subject_key("natural_person", VALID_ID)
    assert display == "1101**********002X" == mask_resident_id(VALID_ID)
    assert key == resident_id_key(VALID_ID)
    assert VALID_ID not in key and len(key) == 64


def test_a_legal_person_key_is_the_code_itself():
    assert subject_key("legal_person", VALID_CODE) == (VALID_CODE, VALID_CODE)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError):
        subject_key("company", VALID_CODE)


def test_lookup_explains_a_typo_in_a_credit_code():
    with pytest.raises(ValidationError) as exc:
        lookup_candidates("91350100M000100Y44")
    assert "校验位错误" in message(exc) and "统一社会信用代码" in message(exc)


def test_lookup_explains_a_typo_in_a_resident_id():
    with pytest.raises(ValidationError) as exc:
        lookup_candidates("110105194912310021")
    assert "居民身份证号码校验位错误" in message(exc)


def test_lookup_accepts_the_stored_key_of_a_natural_person():
    key = resident_id_key(VALID_ID)
    assert lookup_candidates(key) == [("natural_person", key)]


def test_names_are_masked_after_the_family_name():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧***"
