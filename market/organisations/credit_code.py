"""The 18-character unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

import re
import unicodedata

from market.core.errors import Invalid

# The code's 31 characters: digits and capital letters except I, O, S, V and Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
_VALUE = {c: i for i, c in enumerate(ALPHABET)}

# GB 11714 organisation code (characters 9–17): eight body characters and a check character.
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_code_check(body8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def normalise(raw: str) -> str:
    """What people type, as the code itself: full-width characters folded (NFKC), spaces and
    hyphens dropped, letters upper-cased."""
    folded = unicodedata.normalize("NFKC", raw)
    return re.sub(r"[\s\-]", "", folded).upper()


def validate(raw: str, field: str = "credit_code") -> str:
    """Return the normalised code, or raise Invalid saying what is wrong with it."""
    code = normalise(raw)
    if len(code) != 18:
        raise Invalid("The unified social credit code has 18 characters; %(count)s were entered.",
                      field=field, count=len(code))
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise Invalid("The unified social credit code cannot contain “%(chars)s”: it uses digits and capital "
                      "letters other than I, O, S, V and Z.", field=field, chars="".join(bad))
    if not code[2:8].isdigit():
        raise Invalid("Characters 3 to 8 of the unified social credit code are the administrative division "
                      "code and must be digits.", field=field)
    if check_character(code[:17]) != code[17]:
        raise Invalid("The last character (check digit) of this unified social credit code does not match "
                      "the others. Please check it for typing mistakes.", field=field)
    return code


def make(authority_and_type: str, division: str, body8: str) -> str:
    """Build a valid code (demo data and tests): e.g. make("52", "330102", "MJ0001234")."""
    org = body8 + organisation_code_check(body8)
    first17 = authority_and_type + division + org
    return first17 + check_character(first17)
