-- Bids: sealed until the call's deadline. One bid per provider per call, withdrawn and resubmitted
-- in place until the deadline.

create table bids (
    id             bigserial primary key,
    call_id        bigint not null references calls (id),
    provider_id    bigint not null references organisations (id),
    submitted_by   bigint not null references users (id),
    status         text not null check (status in ('submitted', 'withdrawn')),
    amount_fen     bigint not null check (amount_fen > 0),
    objectives     text not null check (length(objectives) between 10 and 4000),
    activities     text not null check (length(activities) between 10 and 8000),
    team           text not null check (length(team) between 5 and 4000),
    indicators     jsonb not null,
    attachments    uuid[] not null default '{}',
    call_revision  integer not null,
    submitted_at   timestamptz not null default now(),
    withdrawn_at   timestamptz,
    unique (call_id, provider_id)
);
create index on bids (provider_id);

create table bid_budget_lines (
    bid_id     bigint not null references bids (id) on delete cascade,
    position   smallint not null,
    item       text not null check (length(item) between 1 and 200),
    amount_fen bigint not null check (amount_fen > 0),
    primary key (bid_id, position)
);
