from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged

Level = Literal["category", "subcategory", "item"]
Scope = Literal["district", "any"]
ProviderType = Literal["social_group", "social_service_agency", "foundation"]
PROVIDER_TYPES: tuple[str, ...] = ("social_group", "social_service_agency", "foundation")

VERSION_STATUS_NAMES = {"draft": N_("draft"), "published": N_("published"), "retired": N_("retired")}
SCOPE_NAMES = {"district": N_("registered in this district"), "any": N_("from any district")}
LEVEL_NAMES = {"category": N_("Category"), "subcategory": N_("Sub-category"), "item": N_("Item")}


class Indicator(msgspec.Struct, frozen=True):
    name_zh: str
    name_en: str
    unit: str


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the catalogue: a category, a sub-category or an item that can be bought."""

    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    description_zh: str = ""
    description_en: str = ""
    unit_zh: str | None = None
    unit_en: str | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    provider_types: list[str] | None = None
    min_rating: int | None = None
    min_years: int | None = None
    scope: str | None = None
    indicators: list[Indicator] = []


class StoredEntry(Entry, frozen=True, kw_only=True):
    id: int
    version_id: int
    position: int


class Version(msgspec.Struct, frozen=True):
    id: int
    buyer_id: int
    year: int
    revision: int
    title_zh: str
    title_en: str
    status: str
    created_at: datetime
    published_at: datetime | None
    retired_at: datetime | None


class VersionWithEntries(Version, frozen=True, kw_only=True):
    entries: list[StoredEntry]


class NewVersion(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    title_zh: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    title_en: Annotated[str, msgspec.Meta(max_length=300)] = ""
    copy_from: Annotated[int, msgspec.Meta(ge=1, le=2**62)] | None = None


class RowProblem(msgspec.Struct, frozen=True):
    """One thing wrong with one row of an imported file; row 1 is the header."""

    row: int
    column: str
    message: str



class PublishedVersion(Version, frozen=True, kw_only=True):
    """A catalogue in force, with its bureau's name and how many items it lists."""

    buyer_name_zh: str
    buyer_name_en: str
    items: int


class PublishedVersions(Paged, kw_only=True):
    """A page of the published catalogues, the latest first."""

    versions: list[PublishedVersion]


class FoundItem(StoredEntry, frozen=True, kw_only=True):
    """An item of a catalogue in force, found by a search."""

    buyer_id: int
    year: int
    buyer_name_zh: str = ""
    buyer_name_en: str = ""


class FoundItems(Paged, kw_only=True):
    """A page of the items a search of the catalogues in force found."""

    items: list[FoundItem]
