-- What a failed evaluation of delivery does to a contract: its life after signing (in delivery →
-- rectifying → in delivery again after a re-evaluation, or ended; completed once every milestone is
-- accepted), the failures that count without a panel, and the money an ended contract returned.

-- The contract's life after both have signed. A signed contract without a row is in delivery.
create table contract_delivery (
    contract_id     bigint primary key references contracts (id),
    status          text not null default 'in_delivery'
                    check (status in ('in_delivery', 'rectifying', 'ended', 'completed')),
    -- The failed stage the buyer's decision answers, and the rectification asked for.
    decided_stage   text check (decided_stage in ('midterm', 'final')),
    rectify_by      date,
    rectify_note    text not null default '' check (length(rectify_note) <= 2000),
    ended_reason    text not null default '' check (length(ended_reason) <= 2000),
    ended_at        timestamptz,
    ended_by        bigint references users (id),
    updated_at      timestamptz not null default now(),
    check (status <> 'rectifying' or rectify_by is not null),
    check ((status = 'ended') = (ended_at is not null))
);

-- A stage failed without a panel's score: written by the rules that say so (a report not filed by
-- the end of the contract's grace period, as the standard contract says). `reason` is an English
-- message id shown translated. The latest of a failure and a closed panel of the stage decides it.
create table contract_stage_failures (
    id           bigserial primary key,
    contract_id  bigint not null references contracts (id),
    stage        text not null check (stage in ('midterm', 'final')),
    reason       text not null check (length(reason) between 2 and 500),
    at           timestamptz not null default market_now()
);
create index on contract_stage_failures (contract_id, stage);

-- Money an ended contract gave back, one row per movement, each with its ledger transaction (none for
-- the unpaid government share, which never left the budget line: see market/delivery/ending.py).
create table contract_returns (
    id              bigserial primary key,
    contract_id     bigint not null references contracts (id),
    kind            text not null check (kind in ('pledge_to_funder', 'pledge_to_fund', 'matching_to_fund',
                                                  'budget_kept')),
    transaction_id  bigint references ledger_transactions (id),
    pledge_id       bigint references pledges (id),
    funder_id       bigint references organisations (id),
    fund_id         bigint references funds (id),
    amount_fen      bigint not null check (amount_fen > 0),
    check ((kind = 'budget_kept') = (transaction_id is null))
);
create index on contract_returns (contract_id);

-- Money back to a fund when its project's contract ended (a refund goes back to a funder).
alter table ledger_transactions drop constraint ledger_transactions_kind_check,
    add constraint ledger_transactions_kind_check
        check (kind in ('payment', 'allocation', 'disbursement', 'refund', 'appropriation', 'matching', 'reversal',
                        'return'));

-- After a failed evaluation and a rectification the buyer orders a new panel for the same stage: a
-- delivery stage may have several panels over time (the latest closed one decides), never two open.
alter table panels drop constraint panels_subject_type_subject_id_key;
create unique index panels_one_per_selection on panels (subject_type, subject_id)
    where subject_type in ('call', 'batch');
create unique index panels_one_open_per_stage on panels (subject_type, subject_id)
    where subject_type in ('midterm', 'final') and status <> 'closed';
