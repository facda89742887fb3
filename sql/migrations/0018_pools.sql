-- Matching rounds (配捐) of a fund: the projects taking part, the round's window, and every closed
-- round's computation kept whole — its inputs (the gifts that counted, the pool, the rules) and its
-- result — so anyone can recompute it, with the ledger transaction that paid the matches.
--
-- A fund runs one matching round: a new programme is a new fund. The window says which pledges
-- count (those made while it is open); closing the round is what computes and pays the matches.

alter table funds add column opens_at timestamptz,
                  add column closes_at timestamptz,
                  add column updated_at timestamptz not null default now(),
                  add constraint funds_window_pair check ((opens_at is null) = (closes_at is null)),
                  add constraint funds_window_order check (closes_at > opens_at),
                  add constraint funds_matching_has_window check (matching = 'none' or opens_at is not null);

create table fund_projects (
    fund_id     bigint not null references funds (id),
    project_id  bigint not null references projects (id),
    added_by    bigint not null references users (id),
    added_at    timestamptz not null default now(),
    primary key (fund_id, project_id)
);
create index on fund_projects (project_id);

create table matching_runs (
    id                  bigserial primary key,
    -- One closed round per fund: a second close cannot commit, whatever the application does.
    fund_id             bigint not null unique references funds (id),
    matching            text not null check (matching in ('ratio', 'quadratic')),
    rules               jsonb not null,
    -- [{id (pledge), donor (funder organisation), project, amount_fen}], as market.funding.matching.Gift
    gifts               jsonb not null,
    pool_fen            bigint not null check (pool_fen >= 0),
    window_opens_at     timestamptz not null,
    window_closes_at    timestamptz not null,
    result              jsonb not null,
    total_match_fen     bigint not null check (total_match_fen >= 0 and total_match_fen <= pool_fen),
    -- None when nothing was matched: the ledger has no empty transactions.
    transaction_id      bigint unique references ledger_transactions (id),
    closed_by           bigint not null references users (id),
    closed_at           timestamptz not null default now(),
    check ((transaction_id is null) = (total_match_fen = 0))
);

-- A closed round is a record, like the ledger it posted to.
revoke update, delete, truncate on matching_runs from market_app;
