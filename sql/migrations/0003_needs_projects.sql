-- The needs list (需求清单) and the project list (项目清单): residents and communities raise needs,
-- a buyer turns one or several into a project (立项) with a budget from a catalogue item.

create table needs (
    id                  bigserial primary key,
    raised_by           bigint not null references users (id),
    raised_for          bigint references organisations (id),
    community_id        integer not null references jurisdictions (id),
    title               text not null check (length(title) between 4 and 100),
    description         text not null check (length(description) between 10 and 4000),
    beneficiaries       text not null check (length(beneficiaries) between 2 and 200),
    beneficiary_count   integer check (beneficiary_count between 1 and 10000000),
    urgency             text not null check (urgency in ('low', 'normal', 'high', 'urgent')),
    suggested_entry_id  bigint references catalogue_entries (id),
    status              text not null default 'open' check (status in ('open', 'declined', 'withdrawn', 'approved')),
    status_reason       text not null default '' check (length(status_reason) <= 1000),
    supporters          integer not null default 0 check (supporters >= 0),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
create index on needs (community_id, status);
create index on needs (status, created_at desc);
create index on needs (raised_by);

create table need_supports (
    need_id    bigint not null references needs (id),
    user_id    bigint not null references users (id),
    created_at timestamptz not null default now(),
    primary key (need_id, user_id)
);

create table projects (
    id                  bigserial primary key,
    buyer_id            bigint not null references organisations (id),
    jurisdiction_id     integer not null references jurisdictions (id),
    catalogue_entry_id  bigint not null references catalogue_entries (id),
    title_zh            text not null check (length(title_zh) between 4 and 100),
    title_en            text not null default '' check (length(title_en) <= 200),
    description         text not null check (length(description) between 10 and 4000),
    budget_fen          bigint not null check (budget_fen > 0 and budget_fen <= 100000000000),
    budget_line         text not null check (length(budget_line) between 2 and 200),
    status              text not null default 'approved' check (status in ('approved', 'cancelled')),
    created_by          bigint not null references users (id),
    created_at          timestamptz not null default now()
);
create index on projects (buyer_id);
create index on projects (jurisdiction_id, status);

create table project_needs (
    project_id bigint not null references projects (id),
    need_id    bigint not null unique references needs (id),
    primary key (project_id, need_id)
);
