"""Money is integer fen everywhere but where people type it: in yuan."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_YUAN = Decimal("1000000000")


def yuan_to_fen(text: str) -> int:
    """'1,234.5' or '¥80' as fen; ValueError for anything that is not a positive amount with at most
    two decimals."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").replace("元", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or value <= 0 or value > MAX_YUAN:
        raise ValueError(text)
    return int(value * 100)
