"""The project form: the budget in yuan, as a ProjectInput."""

from __future__ import annotations

from typing import Any

from market.core.errors import Invalid, InvalidFields
from market.core.money import yuan_to_fen
from market.core.validation import parse
from market.procurement.needs.models import ProjectInput


def project_from_form(form: dict[str, Any]) -> ProjectInput:
    """The page asks for the budget in yuan; the rest of the system counts fen."""
    data = {k: v for k, v in form.items() if k not in ("budget_yuan", "need_ids")}
    data["need_ids"] = [v for v in form.get("need_ids", []) if v]
    if "budget_yuan" in form:
        try:
            data["budget_fen"] = yuan_to_fen(str(form["budget_yuan"]))
        except ValueError:
            raise InvalidFields([Invalid("Enter the budget in yuan, such as 80000 or 12500.50.",
                                         field="budget_yuan")]) from None
    return parse(data, ProjectInput)
