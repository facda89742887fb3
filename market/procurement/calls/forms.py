"""The call form: what a buyer types (the ceiling in yuan, the deadline in local time, criteria as
numbered rows) as a CallInput, and a call as the form's fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from market.core.errors import Invalid, InvalidFields
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.procurement.calls.models import Call, CallInput

MAX_CRITERIA = 8


def call_from_form(raw: dict[str, Any], multi: dict[str, list[str]], project_id: int, tz: str) -> CallInput:
    """The call form as a CallInput: yuan to fen, local time to an instant, criteria rows to a list."""
    data: dict[str, Any] = {k: v for k, v in raw.items() if not k.startswith("criteria-")
                            and k not in ("budget_ceiling_yuan", "provider_types", "cross_district")}
    data["project_id"] = project_id
    problems: list[Invalid] = []
    if "budget_ceiling_yuan" in raw:
        try:
            data["budget_ceiling_fen"] = yuan_to_fen(str(raw["budget_ceiling_yuan"]))
        except ValueError:
            problems.append(Invalid("Enter the budget in yuan, such as 80000 or 12500.50.", field="budget_ceiling_yuan"))
    if multi.get("provider_types"):
        data["provider_types"] = multi["provider_types"]
    if raw.get("cross_district") in ("true", "false"):
        data["cross_district"] = raw["cross_district"] == "true"
    if raw.get("deadline_at"):
        try:
            data["deadline_at"] = datetime.fromisoformat(str(raw["deadline_at"])).replace(tzinfo=ZoneInfo(tz))
        except ValueError:
            problems.append(Invalid("Enter a date and time.", field="deadline_at"))
    criteria = []
    for i in range(MAX_CRITERIA):
        name = raw.get(f"criteria-{i}-name_zh")
        if not name:
            continue
        criteria.append({"name_zh": name, "name_en": raw.get(f"criteria-{i}-name_en", ""),
                         "weight": raw.get(f"criteria-{i}-weight", 0), "min_score": raw.get(f"criteria-{i}-min_score"),
                         "is_price": bool(raw.get(f"criteria-{i}-is_price"))})
    data["criteria"] = [{k: v for k, v in c.items() if v is not None} for c in criteria]
    if problems:
        raise InvalidFields(problems)
    return parse(data, CallInput)


def form_of(call: Call, tz: str) -> dict[str, Any]:
    form: dict[str, Any] = {k: getattr(call, k) for k in ("procedure_type", "title_zh", "title_en", "description",
                                                          "service_start", "service_end", "service_place",
                                                          "min_rating", "min_years", "justification")}
    form["budget_ceiling_yuan"] = f"{call.budget_ceiling_fen / 100:.2f}"
    form["provider_types"] = call.provider_types
    form["cross_district"] = "true" if call.cross_district else "false"
    if call.deadline_at:
        form["deadline_at"] = call.deadline_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    for i, c in enumerate(call.criteria):
        form.update({f"criteria-{i}-name_zh": c.name_zh, f"criteria-{i}-name_en": c.name_en,
                     f"criteria-{i}-weight": c.weight, f"criteria-{i}-min_score": c.min_score,
                     f"criteria-{i}-is_price": c.is_price})
    return form


DEFAULT_CRITERIA = [("项目设计与可行性", "Design and feasibility", 35, 60, False),
                    ("组织能力与团队", "Organisation and team", 25, None, False),
                    ("预期成效", "Expected outcomes", 20, None, False),
                    ("价格", "Price", 20, None, True)]
