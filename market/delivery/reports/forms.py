"""The report form: what the provider types (each target's achievement and note, each budget line's
spending in yuan, numbered by the bid's positions) as a ReportInput, and a version as the form's fields."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from market.core.errors import Invalid, InvalidFields
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.delivery.reports.models import ReportInput, ReportVersion

_FIELD = re.compile(r"^(target|line)-(\d{1,2})-(achieved|note|yuan)$")


def _spent(text: str) -> int:
    """Spending in yuan as fen; nothing spent on a line is 0, which yuan_to_fen (for prices) refuses."""
    cleaned = text.strip()
    if cleaned in ("0", "0.0", "0.00"):
        return 0
    return yuan_to_fen(cleaned)


def report_from_form(raw: dict[str, Any]) -> ReportInput:
    problems: list[Invalid] = []
    targets: dict[int, dict[str, Any]] = {}
    spending = []
    for name, value in raw.items():
        match = _FIELD.match(name)
        if match is None or not isinstance(value, str):
            continue
        table, position, column = match.group(1), int(match.group(2)), match.group(3)
        if table == "line":
            try:
                spending.append({"position": position, "spent_fen": _spent(value)})
            except ValueError:
                problems.append(Invalid("Enter an amount in yuan, such as 5000 or 1250.50.", field=name))
            continue
        entry = targets.setdefault(position, {"position": position})
        if column == "note":
            entry["note"] = value
            continue
        try:
            achieved = Decimal(value.strip().replace(",", ""))
            if not achieved.is_finite() or achieved < 0:
                raise InvalidOperation
            entry["achieved"] = float(achieved)
        except InvalidOperation:
            problems.append(Invalid("Enter a number, such as 120 or 36.5.", field=name))
    data = {"activities": raw.get("activities", ""), "narrative": raw.get("narrative", ""),
            "targets": list(targets.values()), "spending": spending}
    try:
        report = parse(data, ReportInput)
    except InvalidFields as exc:
        raise InvalidFields(exc.errors + problems) from None
    if problems:
        raise InvalidFields(problems)
    return report


def form_of(version: ReportVersion | None) -> dict[str, Any]:
    if version is None:
        return {}
    form: dict[str, Any] = {"activities": version.activities, "narrative": version.narrative}
    for t in version.targets:
        form[f"target-{t.position}-achieved"] = "" if t.achieved is None else f"{t.achieved:f}".rstrip("0").rstrip(".")
        form[f"target-{t.position}-note"] = t.note
    for s in version.spending:
        form[f"line-{s.position}-yuan"] = f"{s.spent_fen / 100:.2f}"
    return form
