-- Dockings (对接): a project given to a provider without a bidding panel, either at a fair (an item
-- with its provider) or accepted by the buyer from a rolling docking run (the fit scores and the
-- docking solver run on demand). A docking is published as a 'fair_docking' call whose only bid is
-- the provider's, with an award under the procedure's public notice; the contract then follows as
-- for any award.

create table docking_runs (
    id           bigserial primary key,
    owner_id     bigint not null references organisations (id),
    created_by   bigint not null references users (id),
    created_at   timestamptz not null default now(),
    -- The solver's input and answer, kept so the suggestion can be re-checked with `market match solve`.
    instance     jsonb not null,
    result       jsonb not null,
    objective    double precision not null,
    upper_bound  double precision not null,
    gap          double precision not null
);
create index on docking_runs (owner_id, id desc);

-- A buyer's or foundation's standing instructions to the solver: keep this pair, or never make it.
create table docking_rules (
    owner_id     bigint not null references organisations (id),
    project_id   bigint not null references projects (id),
    provider_id  bigint not null references organisations (id),
    rule         text not null check (rule in ('pin', 'ban')),
    set_by       bigint not null references users (id),
    set_at       timestamptz not null default now(),
    primary key (owner_id, project_id, provider_id)
);
-- One pin per project and owner: a project has at most one provider.
create unique index docking_rules_one_pin on docking_rules (owner_id, project_id) where rule = 'pin';

create table dockings (
    id           bigserial primary key,
    project_id   bigint not null references projects (id),
    provider_id  bigint not null references organisations (id),
    amount_fen   bigint not null check (amount_fen > 0),
    fit_score    double precision,
    fair_id      bigint references fairs (id),
    run_id       bigint references docking_runs (id),
    call_id      bigint not null unique references calls (id),
    accepted_by  bigint not null references users (id),
    accepted_at  timestamptz not null default now(),
    check ((fair_id is null) <> (run_id is null))
);
create index on dockings (project_id);
create unique index dockings_one_per_fair_item on dockings (fair_id, project_id) where fair_id is not null;

-- A docking's award has no panel: the docking is the decision, published for objection like any other.
alter table awards alter column panel_id drop not null,
                   add column docking_id bigint unique references dockings (id),
                   add check (panel_id is not null or docking_id is not null);
