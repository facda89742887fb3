-- Providers rate the buyer (market/buyers/ratings.py): once per contract after the mid-term
-- evaluation is decided, once more at the end. Five criteria on 1 to 5, each read so that 5 is best
-- ("interference in delivery": 5 = none). A rating is never changed or withdrawn.
create table buyer_ratings (
    id            bigserial primary key,
    contract_id   bigint not null references contracts (id),
    stage         text not null check (stage in ('midterm', 'final')),
    -- The contract's parties, kept on the row: every aggregate groups by them.
    buyer_id      bigint not null references organisations (id),
    provider_id   bigint not null references organisations (id),
    clarity       smallint not null check (clarity between 1 and 5),
    payment       smallint not null check (payment between 1 and 5),
    support       smallint not null check (support between 1 and 5),
    interference  smallint not null check (interference between 1 and 5),
    fairness      smallint not null check (fairness between 1 and 5),
    comment       text not null default '' check (length(comment) <= 2000),
    rated_by      bigint not null references users (id),
    rated_at      timestamptz not null default market_now(),
    unique (contract_id, stage)
);
create index on buyer_ratings (buyer_id, rated_at);
revoke update, delete, truncate on buyer_ratings from market_app;

-- The provider is told once that a stage's rating is due (the rating clock, market/buyers/jobs.py):
-- whichever process inserts the row sends the notification.
create table buyer_rating_reminders (
    contract_id  bigint not null references contracts (id),
    stage        text not null check (stage in ('midterm', 'final')),
    sent_at      timestamptz not null default market_now(),
    primary key (contract_id, stage)
);
