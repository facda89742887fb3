"""Money is integer fen everywhere but where people type it: in yuan."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec

from market.core.errors import Invalid, InvalidFields

MAX_YUAN = Decimal(1000000000)
# An amount of money a form or JSON sends: whole fen, more than nothing, at most a billion yuan.
Fen = Annotated[int, msgspec.Meta(gt=0, le=100_000_000_000)]
# "1000000000.00" and a little room for leading zeros and a sign
MAX_CHARS = 20


def yuan_to_fen(text: str) -> int:
    """'1,234.5' or '¥80' as fen; ValueError for anything that is not a positive amount with at most
    two decimals."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").replace("元", "")
    # Bounded before any arithmetic: quantizing 1e27 or 29 digits overflows Decimal's precision.
    if len(cleaned) > MAX_CHARS:
        raise ValueError(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value <= 0 or value > MAX_YUAN or value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int(value * 100)


def parse_yuan(text: str, field: str) -> int:
    """A form's amount in yuan as fen, or the error to show beside the field."""
    try:
        return yuan_to_fen(text)
    except ValueError:
        raise InvalidFields([Invalid("Enter an amount in yuan, such as 5000 or 1250.50.", field=field)]) from None
