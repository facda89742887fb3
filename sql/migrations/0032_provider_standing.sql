-- A provider's record of delivery (market/delivery/scorecard.py): every finished mid-term and final
-- evaluation, kept after a re-evaluation has superseded it, and the standing it leads to.

-- Each decided evaluation of a contract's stage as it was published: the latest closed panel or a
-- recorded failure (market.delivery.outcomes.outcomes_of). A re-evaluation adds a row; none is changed.
create table delivery_results (
    contract_id  bigint not null references contracts (id),
    stage        text not null check (stage in ('midterm', 'final')),
    decided_at   timestamptz not null,
    outcome      text not null check (outcome in ('passed', 'failed')),
    total        numeric,
    grade        text check (grade in ('A', 'B', 'C')),
    -- A failure without a panel: its reason, an English message id shown translated.
    reason       text not null default '' check (length(reason) <= 500),
    panel_id     bigint references panels (id),
    primary key (contract_id, stage, decided_at),
    check ((total is null) = (grade is null))
);

-- The provider's standing for eligibility: each row bars it from one catalogue item (the item's code
-- in its owner's catalogue, whatever the year's version) until a date, because of one evaluation of
-- one contract (a grade at or below MARKET_STANDING_BAR_GRADE, or a stage failed without a panel,
-- such as a report never filed). Written by delivery, read by procurement's eligibility check.
create table provider_standing (
    organisation_id     bigint not null references organisations (id),
    contract_id         bigint not null references contracts (id),
    stage               text not null check (stage in ('midterm', 'final')),
    catalogue_owner_id  bigint not null references organisations (id),
    item_code           text not null,
    grade               text check (grade in ('A', 'B', 'C')),
    reason              text not null default '' check (length(reason) <= 500),
    decided_at          timestamptz not null,
    barred_until        date not null,
    primary key (organisation_id, contract_id, stage),
    check ((grade is null) <> (reason = ''))
);
create index provider_standing_item on provider_standing (organisation_id, catalogue_owner_id, item_code,
                                                          barred_until);
