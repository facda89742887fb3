import pytest

from market.core.errors import Invalid
from market.organisations import credit_code

# A published example code (Fujian), whose check digit is 3.
REAL = "91350100M000100Y43"


def test_valid_code_is_accepted():
    assert credit_code.validate(REAL) == REAL


def test_made_codes_are_valid_and_carry_both_check_digits():
    code = credit_code.make("52", "330102", "MJ000123")
    assert credit_code.validate(code) == code
    assert code[16] == credit_code.organisation_code_check("MJ000123")


@pytest.mark.parametrize("last", [c for c in credit_code.ALPHABET if c != "3"])
def test_every_wrong_check_digit_is_refused(last):
    with pytest.raises(Invalid, match="check digit"):
        credit_code.validate(REAL[:17] + last)


def test_a_single_typo_is_caught():
    typo = REAL[:5] + ("2" if REAL[5] != "2" else "3") + REAL[6:]
    with pytest.raises(Invalid, match="check digit"):
        credit_code.validate(typo)


@pytest.mark.parametrize("raw,count", [(REAL[:17], 17), (REAL + "0", 19), ("", 0)])
def test_wrong_length_is_refused_with_the_count(raw, count):
    with pytest.raises(Invalid) as exc:
        credit_code.validate(raw)
    assert exc.value.params["count"] == count
    assert exc.value.field == "credit_code"


def test_lower_case_is_read_as_the_same_code():
    assert credit_code.validate(REAL.lower()) == REAL


def test_full_width_characters_are_folded():
    full = "".join(chr(ord(c) + 0xFEE0) for c in REAL)  # ９１３５… as typed with a Chinese IME
    assert full != REAL
    assert credit_code.validate(full) == REAL


def test_full_width_with_a_wrong_check_digit_is_still_refused():
    full = "".join(chr(ord(c) + 0xFEE0) for c in REAL[:17] + "4")
    with pytest.raises(Invalid, match="check digit"):
        credit_code.validate(full)


def test_spaces_and_hyphens_are_ignored():
    assert credit_code.validate(f" {REAL[:6]} {REAL[6:12]}-{REAL[12:]} ") == REAL


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_the_standard_never_uses_are_refused(letter):
    with pytest.raises(Invalid) as exc:
        credit_code.validate(REAL[:10] + letter + REAL[11:])
    assert exc.value.params["chars"] == letter


def test_division_code_must_be_digits():
    with pytest.raises(Invalid, match="administrative division"):
        credit_code.validate("91A50100M000100Y43")
