"""Who may bid on a call, in SQL: for lists that find many pairs of calls and providers at once (a
provider's calls to bid on, a call's providers to tell), by the rules its bid form checks one pair at a
time in Python (`bids.services.eligibility_problems`)."""

from __future__ import annotations


def district_of(place: str) -> str:
    """A query's start: `up`, the place the select `place` gives (id, parent_id, level) and every place
    above it; `home`, the district among them and every place under it."""
    return f"""with recursive up as (
    {place}
    union all
    select j.id, j.parent_id, j.level from jurisdictions j join up on j.id = up.parent_id
), home as (
    select id from up where level = 'district'
    union all
    select j.id from jurisdictions j join home on j.parent_id = home.id
)"""


def may_bid(today: str, in_district: str) -> str:
    """The rules of `bids.services.rule_breaches`, and no bar on the call's catalogue item, as a condition
    on a call `c` and a verified provider `o`. `today` and `in_district` are SQL (see `district_of`)."""
    return f"""o.subtype = any(c.provider_types)
   and (c.min_rating is null or coalesce(o.rating, 0) >= c.min_rating)
   and (coalesce(c.min_years, 0) = 0 or o.registration_date is null
        or date_part('year', age({today}::date, o.registration_date)) >= c.min_years)
   and (c.cross_district or {in_district})
   and not exists (select from provider_standing s join catalogue_entries e on e.id = c.catalogue_entry_id
                     join catalogue_versions v on v.id = e.version_id
                    where s.organisation_id = o.id and s.catalogue_owner_id = v.buyer_id and s.item_code = e.code
                      and s.decided_at <= market_now() and s.barred_until > {today})"""
