"""The bid form: what a bidder types (amounts in yuan, budget lines and indicators as numbered rows)
as a BidInput, and a bid as the form's fields."""

from __future__ import annotations

from typing import Any

from market.core.errors import Invalid, InvalidFields
from market.core.i18n import N_
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.procurement.bids.models import Bid, BidInput

ROWS = 8
TABLES = {"line": "budget_lines", "indicator": "indicators"}  # the form's rows → the bid's lists
BID_YUAN = {"amount_yuan": "amount_fen"}
# The columns of the bid form's tables, each with what to say when a row leaves it empty.
ROW_GAPS = {"line": {"item": N_("Budget line %(n)s: name the item the amount is for."),
                     "yuan": N_("Budget line %(n)s: enter its amount in yuan.")},
            "indicator": {"name": N_("Outcome indicator %(n)s: name the indicator."),
                          "target": N_("Outcome indicator %(n)s: enter your target.")}}


def _rows(raw: dict[str, Any], table: str, problems: list[Invalid]) -> list[tuple[int, Any, Any]]:
    """The filled rows of a table of two columns, with their index and their cells as the form sent
    them (the bid's parse checks what they hold). A half-filled row is refused by its number, never
    dropped: the bidder meant something by it."""
    found = []
    for i in range(ROWS):
        cells = {column: raw.get(f"{table}-{i}-{column}") for column in ROW_GAPS[table]}
        empty = [column for column, value in cells.items() if not value]
        if len(empty) == 1:
            problems.append(Invalid(ROW_GAPS[table][empty[0]], field=f"{table}-{i}-{empty[0]}", n=i + 1))
        elif not empty:
            first, second = cells.values()
            found.append((i, first, second))
    return found


def bid_from_form(raw: dict[str, Any], attachments: list[str]) -> BidInput:
    """The bid form: amounts in yuan, budget lines and indicators as numbered rows."""
    problems: list[Invalid] = []

    def fen(text: Any, field: str) -> int | None:
        try:
            return yuan_to_fen(str(text))
        except ValueError:
            problems.append(Invalid("Enter an amount in yuan, such as 80000 or 12500.50.", field=field))
            return None

    data: dict[str, Any] = {k: raw[k] for k in ("objectives", "activities", "team") if k in raw}
    if "amount_yuan" in raw and (amount := fen(raw["amount_yuan"], "amount_yuan")) is not None:
        data["amount_fen"] = amount
    lines = [{"item": item, "amount_fen": amount} for i, item, yuan in _rows(raw, "line", problems)
             if (amount := fen(yuan, f"line-{i}-yuan")) is not None]
    indicators = [{"name": name, "target": target} for _, name, target in _rows(raw, "indicator", problems)]
    if not any(raw.get(f"line-{i}-{part}") for i in range(ROWS) for part in ("item", "yuan")):
        problems.append(Invalid("Add at least one budget line: what the money is for, and how much.",
                                field="budget_lines"))
    if not any(raw.get(f"indicator-{i}-{part}") for i in range(ROWS) for part in ("name", "target")):
        problems.append(Invalid("Add at least one outcome indicator with your target.", field="indicators"))
    data.update(budget_lines=lines, indicators=indicators, attachments=attachments)
    try:
        bid = parse(data, BidInput)
    except InvalidFields as exc:
        # A table the rows' own problems speak of (a half-filled row, no row at all) is empty for that
        # reason, which they say; the rows' problems come last, so they stand where both name a field.
        told = {TABLES.get(p.field.split("-")[0], p.field) for p in problems if p.field}
        raise InvalidFields([e for e in exc.errors if e.field not in told] + problems) from None
    if problems:
        raise InvalidFields(problems)
    return bid


def form_of(bid: Bid) -> dict[str, Any]:
    form: dict[str, Any] = {"objectives": bid.objectives, "activities": bid.activities, "team": bid.team,
                            "amount_yuan": f"{bid.amount_fen / 100:.2f}"}
    for i, line in enumerate(bid.budget_lines):
        form.update({f"line-{i}-item": line.item, f"line-{i}-yuan": f"{line.amount_fen / 100:.2f}"})
    for i, indicator in enumerate(bid.indicators):
        form.update({f"indicator-{i}-name": indicator["name"], f"indicator-{i}-target": indicator["target"]})
    return form
