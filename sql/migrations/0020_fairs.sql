-- The charity matchmaking fair (公益项目相亲会 / 公益对对碰): a bureau or foundation lines up
-- pre-screened projects in a running order, funders register, mark interest beforehand and, on the
-- day, raise a paddle from their phone: a pledge of an amount, confirmed by a second tap.

create table fairs (
    id            bigserial primary key,
    organiser_id  bigint not null references organisations (id),
    title_zh      text not null check (length(title_zh) between 2 and 200),
    title_en      text not null default '' check (length(title_en) <= 200),
    place         text not null check (length(place) between 2 and 200),
    description   text not null default '' check (length(description) <= 4000),
    starts_at     timestamptz not null,
    ends_at       timestamptz not null,
    status        text not null default 'draft' check (status in ('draft', 'open', 'live', 'closed')),
    -- The project on stage now (its position in the running order), while live.
    on_stage      smallint,
    created_by    bigint not null references users (id),
    created_at    timestamptz not null default now(),
    closed_at     timestamptz,
    check (ends_at > starts_at)
);

create table fair_items (
    fair_id        bigint not null references fairs (id),
    position       smallint not null check (position > 0),
    project_id     bigint not null references projects (id),
    -- The provider docked with the project, when the fair docks a need with its undertaker.
    provider_id    bigint references organisations (id),
    target_fen     bigint not null check (target_fen > 0),
    -- Pledges made at the fair count only if the project reaches its target (refunded otherwise).
    all_or_nothing boolean not null default false,
    pitch          text not null default '' check (length(pitch) <= 1000),
    primary key (fair_id, position),
    unique (fair_id, project_id)
);

create table fair_funders (
    fair_id       bigint not null references fairs (id),
    funder_id     bigint not null references organisations (id),
    registered_by bigint not null references users (id),
    registered_at timestamptz not null default now(),
    primary key (fair_id, funder_id)
);

create table fair_interests (
    fair_id    bigint not null references fairs (id),
    project_id bigint not null references projects (id),
    funder_id  bigint not null references organisations (id),
    marked_at  timestamptz not null default now(),
    primary key (fair_id, project_id, funder_id)
);

-- A paddle raised: first tap proposes, second tap confirms. The phone makes the token when it shows
-- the form, so a tap sent twice is the same raise, and a confirmation sent twice makes one pledge.
create table fair_raises (
    token        uuid primary key,
    fair_id      bigint not null references fairs (id),
    project_id   bigint not null references projects (id),
    funder_id    bigint not null references organisations (id),
    raised_by    bigint not null references users (id),
    amount_fen   bigint not null check (amount_fen > 0 and amount_fen <= 100000000000),
    status       text not null default 'proposed' check (status in ('proposed', 'confirmed', 'withdrawn')),
    pledge_id    bigint unique references pledges (id),
    -- What the project's matching pools would add to this pledge, when it was confirmed.
    match_fen    bigint not null default 0 check (match_fen >= 0),
    created_at   timestamptz not null default now(),
    confirmed_at timestamptz,
    check ((status = 'confirmed') = (pledge_id is not null)),
    foreign key (fair_id, project_id) references fair_items (fair_id, project_id)
);
create index on fair_raises (fair_id, status);
