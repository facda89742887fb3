-- Funding: the resources list (资源清单), funds (pools), pledges, payments and a double-entry ledger.
--
-- The ledger is the database's to keep honest, not only Python's:
--  * every entry's amount is signed (positive: into the account) and each transaction's entries
--    add up to zero per currency, checked when the transaction commits;
--  * an account's balance is kept by a trigger from its entries, and a CHECK refuses a negative
--    balance where the account forbids it; the application role cannot write balances itself;
--  * posted entries and transactions are never updated or deleted: a correction is a reversing
--    transaction.

create table resources (
    id                  bigserial primary key,
    funder_id           bigint not null references organisations (id),
    kind                text not null check (kind in ('money', 'goods', 'venue', 'volunteer_hours')),
    title               text not null check (length(title) between 2 and 100),
    description         text not null default '' check (length(description) <= 4000),
    amount_fen          bigint check (amount_fen > 0),
    quantity            text not null default '' check (length(quantity) <= 200),
    available_from      date,
    available_until     date,
    categories          text[] not null default '{}',
    jurisdiction_ids    integer[] not null default '{}',
    beneficiary_groups  text[] not null default '{}',
    conditions          text not null default '' check (length(conditions) <= 2000),
    private             boolean not null default false,
    created_by          bigint not null references users (id),
    created_at          timestamptz not null default now(),
    withdrawn_at        timestamptz,
    check ((kind = 'money') = (amount_fen is not null)),
    check (available_until is null or available_from is null or available_until >= available_from)
);
create index on resources (funder_id);

create table funds (
    id                  bigserial primary key,
    owner_id            bigint not null references organisations (id),
    name_zh             text not null check (length(name_zh) between 2 and 100),
    name_en             text not null default '' check (length(name_en) <= 200),
    description         text not null default '' check (length(description) <= 4000),
    matching            text not null default 'none' check (matching in ('none', 'ratio', 'quadratic')),
    ratio_num           integer check (ratio_num > 0),
    ratio_den           integer check (ratio_den > 0),
    min_gift_fen        bigint not null default 0 check (min_gift_fen >= 0),
    per_donor_cap_fen   bigint check (per_donor_cap_fen > 0),
    per_project_cap_fen bigint check (per_project_cap_fen > 0),
    created_by          bigint not null references users (id),
    created_at          timestamptz not null default now(),
    check ((matching = 'ratio') = (ratio_num is not null and ratio_den is not null))
);

-- A project may ask funders for money beyond what government pays: its target.
alter table projects add column funding_target_fen bigint check (funding_target_fen > 0),
                     add column funding_deadline timestamptz;

create table ledger_accounts (
    id              bigserial primary key,
    -- funder:<org> | government:<org> | budget_line:<org>:<name> | fund:<id> | escrow:<project> |
    -- project:<id> | provider:<org>
    key             text not null,
    kind            text not null check (kind in ('funder', 'government', 'budget_line', 'fund', 'escrow',
                                                  'project', 'provider')),
    organisation_id bigint references organisations (id),
    fund_id         bigint references funds (id),
    project_id      bigint references projects (id),
    currency        char(3) not null default 'CNY' check (currency ~ '^[A-Z]{3}$'),
    -- Only the accounts that stand for money outside the platform (what a funder or government has
    -- paid in) run negative.
    allow_negative  boolean not null,
    balance_fen     bigint not null default 0,
    created_at      timestamptz not null default now(),
    unique (key, currency),
    unique (id, currency),
    constraint ledger_no_overdraft check (allow_negative or balance_fen >= 0)
);

create table ledger_transactions (
    id          bigserial primary key,
    kind        text not null check (kind in ('payment', 'allocation', 'disbursement', 'refund', 'appropriation',
                                              'matching', 'reversal')),
    memo        text not null default '' check (length(memo) <= 500),
    pledge_id   bigint,
    project_id  bigint references projects (id),
    reverses    bigint unique references ledger_transactions (id),
    created_by  bigint references users (id),
    created_at  timestamptz not null default now()
);

-- A project's government budget is appropriated to its budget line once.
create unique index ledger_one_appropriation on ledger_transactions (project_id) where kind = 'appropriation';

create table ledger_entries (
    id              bigserial primary key,
    transaction_id  bigint not null references ledger_transactions (id),
    account_id      bigint not null,
    currency        char(3) not null,
    amount_fen      bigint not null check (amount_fen <> 0),
    -- An entry is in its account's currency.
    foreign key (account_id, currency) references ledger_accounts (id, currency)
);
create index on ledger_entries (transaction_id);
create index on ledger_entries (account_id);

create function ledger_account_opens_empty() returns trigger language plpgsql as $$
begin
    new.balance_fen := 0;
    return new;
end $$;
create trigger ledger_account_opens_empty before insert on ledger_accounts
    for each row execute function ledger_account_opens_empty();

-- SECURITY DEFINER: the application role may not update balances, only post entries.
create function ledger_entry_posts() returns trigger language plpgsql security definer
    set search_path = public as $$
begin
    update ledger_accounts set balance_fen = balance_fen + new.amount_fen where id = new.account_id;
    return new;
end $$;
create trigger ledger_entry_posts after insert on ledger_entries
    for each row execute function ledger_entry_posts();

create function ledger_transaction_balances() returns trigger language plpgsql as $$
declare
    off record;
begin
    select currency, sum(amount_fen) as total into off from ledger_entries
     where transaction_id = new.transaction_id group by currency having sum(amount_fen) <> 0 limit 1;
    if found then
        raise exception 'ledger transaction % does not balance: % % left over', new.transaction_id, off.total,
            off.currency using errcode = '23514';
    end if;
    return null;
end $$;
create constraint trigger ledger_transaction_balances after insert on ledger_entries
    deferrable initially deferred for each row execute function ledger_transaction_balances();

create function ledger_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the ledger is append-only: post a reversing transaction instead' using errcode = '42501';
end $$;
create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function ledger_append_only();
create trigger ledger_entries_no_truncate before truncate on ledger_entries
    for each statement execute function ledger_append_only();
create trigger ledger_transactions_append_only before update or delete on ledger_transactions
    for each row execute function ledger_append_only();
create trigger ledger_transactions_no_truncate before truncate on ledger_transactions
    for each statement execute function ledger_append_only();

revoke update, delete, truncate on ledger_entries, ledger_transactions from market_app;
revoke update, delete, truncate on ledger_accounts from market_app;

create table pledges (
    id                  bigserial primary key,
    funder_id           bigint not null references organisations (id),
    pledged_by          bigint not null references users (id),
    target_type         text not null check (target_type in ('project', 'need', 'fund')),
    project_id          bigint references projects (id),
    need_id             bigint references needs (id),
    fund_id             bigint references funds (id),
    amount_fen          bigint not null check (amount_fen > 0 and amount_fen <= 100000000000),
    currency            char(3) not null default 'CNY',
    status              text not null default 'pledged'
                        check (status in ('pledged', 'awaiting_payment', 'paid', 'allocated', 'disbursed',
                                          'cancelled', 'refunded')),
    -- All or nothing: the project must raise `condition_target_fen` by `condition_deadline`.
    condition_target_fen bigint check (condition_target_fen > 0),
    condition_deadline  timestamptz,
    -- Where a fund pledge's money was allocated; a project pledge's is its project.
    allocated_project_id bigint references projects (id),
    disbursed_fen       bigint not null default 0 check (disbursed_fen >= 0 and disbursed_fen <= amount_fen),
    note                text not null default '' check (length(note) <= 1000),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check ((condition_target_fen is null) = (condition_deadline is null)),
    check ((target_type = 'project') = (project_id is not null)),
    check ((target_type = 'fund') = (fund_id is not null)),
    check (target_type <> 'need' or need_id is not null)
);
create index on pledges (funder_id);
create index on pledges (project_id);
create index on pledges (fund_id);
alter table ledger_transactions add foreign key (pledge_id) references pledges (id);

create table payments (
    id              bigserial primary key,
    pledge_id       bigint not null references pledges (id),
    method          text not null check (method in ('offline', 'stripe')),
    amount_fen      bigint not null check (amount_fen > 0),
    currency        char(3) not null default 'CNY',
    status          text not null default 'pending' check (status in ('pending', 'confirmed', 'rejected', 'failed')),
    bank_reference  text not null default '' check (length(bank_reference) <= 100),
    paid_on         date,
    receipt_file    uuid references files (id),
    recorded_by     bigint not null references users (id),
    recorded_at     timestamptz not null default now(),
    decided_by      bigint references users (id),
    decided_at      timestamptz,
    reject_reason   text not null default '' check (length(reject_reason) <= 1000),
    check ((status in ('pending', 'failed')) = (decided_at is null))
);
create index on payments (pledge_id);
-- One payment in flight per pledge, whichever the method.
create unique index payments_one_pending on payments (pledge_id) where status = 'pending';

-- Disbursements record which pledges paid for which milestone, so a funder can follow its money.
alter table contract_milestones add column accepted_at timestamptz, add column accepted_by bigint references users (id);
create table disbursements (
    id              bigserial primary key,
    contract_id     bigint not null,
    position        smallint not null,
    transaction_id  bigint not null references ledger_transactions (id),
    pledge_id       bigint references pledges (id),
    source          text not null check (source in ('pledges', 'budget_line')),
    amount_fen      bigint not null check (amount_fen > 0),
    created_at      timestamptz not null default now(),
    foreign key (contract_id, position) references contract_milestones (contract_id, position)
);
create index on disbursements (pledge_id);
