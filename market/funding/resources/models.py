"""The resources list's shapes: what a funder offers, what forms and JSON send."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.core.money import Fen

ResourceKind = Literal["money", "goods", "venue", "volunteer_hours"]
RESOURCE_KIND_NAMES = {"money": N_("money"), "goods": N_("goods in kind"), "venue": N_("venue"),
                       "volunteer_hours": N_("volunteer hours")}
# A fixed list, so a funder's preference and a filter mean the same group; needs describe theirs in words.
BeneficiaryGroup = Literal["older_people", "children", "young_people", "disabled", "low_income", "women", "migrants"]
BENEFICIARY_GROUP_NAMES = {"older_people": N_("older people"), "children": N_("children"),
                           "young_people": N_("young people"), "disabled": N_("people with disabilities"),
                           "low_income": N_("families on low incomes"), "women": N_("women"),
                           "migrants": N_("migrant workers and their families")}
CategoryCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}$")]
PlaceId = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]


class ResourceInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a funder offers. Money has an amount; goods, venues and volunteer hours say how much in
    `quantity`. Empty preferences mean any category, anywhere, anyone."""

    kind: ResourceKind
    title: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    amount_fen: Fen | None = None
    quantity: Annotated[str, msgspec.Meta(max_length=200)] = ""
    available_from: date | None = None
    available_until: date | None = None
    categories: Annotated[list[CategoryCode], msgspec.Meta(max_length=30)] = []
    jurisdiction_ids: Annotated[list[PlaceId], msgspec.Meta(max_length=100)] = []
    beneficiary_groups: Annotated[list[BeneficiaryGroup], msgspec.Meta(max_length=10)] = []
    conditions: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    private: bool = False


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    funder_id: int
    funder_name_zh: str
    funder_name_en: str
    kind: str
    title: str
    description: str
    amount_fen: int | None
    quantity: str
    available_from: date | None
    available_until: date | None
    categories: list[str]
    jurisdiction_ids: list[int]
    beneficiary_groups: list[str]
    conditions: str
    private: bool
    created_at: datetime
    withdrawn_at: datetime | None


class ResourceFit(msgspec.Struct, frozen=True, kw_only=True):
    """A resource that suits a need: whether it names the need's category and place or is open to
    any, and the reason in words."""

    resource: Resource
    names_category: bool
    names_place: bool
    reason: str


class ResourceFits(Paged, kw_only=True):
    """A page of the resources that suit a need, best fit first."""

    fits: list[ResourceFit]


class ResourceView(Resource, frozen=True, kw_only=True):
    """A resource's page: the resource, and whether the reader may change or withdraw it."""

    editable: bool = False


class ResourceList(Paged, kw_only=True):
    """The resources list page: one page of entries as the reader may see them, whether more follow
    (and the cursors either side), and whether the reader may list a resource."""

    resources: list[Resource]
    more: bool
    can_list: bool
