"""The jurisdiction tree: district → street → community → grid."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged

Level = Literal["district", "street", "community", "grid"]
LEVEL_NAMES = {"district": N_("District"), "street": N_("Street"), "community": N_("Community"), "grid": N_("Grid")}
# The level a place's parent has; a district has none.
PARENT_LEVEL: dict[str, str | None] = {"district": None, "street": "district", "community": "street",
                                       "grid": "community"}


class Jurisdiction(msgspec.Struct, frozen=True):
    id: int
    parent_id: int | None
    level: str
    code: str
    name_zh: str
    name_en: str


class JurisdictionRow(msgspec.Struct, forbid_unknown_fields=True):
    """One line of an imported tree (see services.import_jurisdictions)."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z-]{2,32}$")]
    level: Level
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    parent_code: str = ""


class PlacePicker(msgspec.Struct, frozen=True, kw_only=True):
    """Where a place filter or field stands, one level at a time: the chosen place with the places
    above it (district first), and the places one level below it (the districts when none is
    chosen). A page shows this instead of every place in the city."""

    chosen: Jurisdiction | None
    path: list[Jurisdiction]
    children: list[Jurisdiction]


# Frozen, unlike the other lists: a page of children is kept and shared between requests. msgspec lets a
# frozen Struct extend a mutable one (the whole of it is frozen); the dataclass_transform its stubs are
# written with cannot say so (msgspec#657).
class Places(Paged, frozen=True, kw_only=True):  # type: ignore[misc]
    """A page of places: the children of one place (or the districts), or those a search finds.
    Pass `next_cursor` back as `cursor` for the next page; a search answers its best matches only."""

    items: list[Jurisdiction]
