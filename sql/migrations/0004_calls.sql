-- Calls: a buyer publishes a call for a project under a procedure type. Procedure types are rows
-- of configuration, not code; a call's status is computed from its timestamps.

create table procedure_types (
    code                  text primary key check (code ~ '^[a-z_]{2,40}$'),
    name_zh               text not null,
    name_en               text not null,
    description_zh        text not null default '',
    description_en        text not null default '',
    day_kind              text not null check (day_kind in ('working', 'calendar')),
    min_tender_days       smallint not null check (min_tender_days between 0 and 90),
    question_close_days   smallint not null check (question_close_days between 0 and 30),
    extend_days           smallint not null check (extend_days between 0 and 30),
    min_bids              smallint not null check (min_bids between 1 and 10),
    notice_days           smallint not null check (notice_days between 0 and 30),
    rolling               boolean not null default false,
    requires_justification boolean not null default false,
    position              smallint not null
);

insert into procedure_types values
    ('open_competition', '公开竞争', 'Open competition',
     '面向所有符合条件的社会组织公开征集，截止后由评审小组评分。',
     'Open to every eligible social organisation; a panel scores the bids after the deadline.',
     'calendar', 10, 3, 3, 2, 5, false, false, 1),
    ('venture_round', '公益创投（常年受理）', 'Venture philanthropy round (open all year)',
     '常年受理社会组织的公益项目申报，分批评审。',
     'Project proposals are accepted all year round and reviewed in batches.',
     'calendar', 0, 0, 0, 1, 5, true, false, 2),
    ('single_source', '单一来源', 'Single source',
     '只向一家承接方采购，须公开说明理由，公示期内可提出异议。',
     'Bought from one provider; the reasons are published and may be objected to during the notice period.',
     'working', 5, 2, 2, 1, 5, false, true, 3),
    ('fair_docking', '公益对对碰', 'Charity fair docking',
     '在公益服务项目对接会上现场对接需求方、资源方和承接方。',
     'Needs, funders and providers are docked on the spot at a charity matchmaking fair.',
     'calendar', 0, 0, 0, 1, 3, false, false, 4);

create table calls (
    id                    bigserial primary key,
    project_id            bigint not null references projects (id),
    buyer_id              bigint not null references organisations (id),
    procedure_type        text not null references procedure_types (code),
    title_zh              text not null check (length(title_zh) between 4 and 100),
    title_en              text not null default '' check (length(title_en) <= 200),
    description           text not null check (length(description) between 10 and 8000),
    catalogue_entry_id    bigint not null references catalogue_entries (id),
    budget_ceiling_fen    bigint not null check (budget_ceiling_fen > 0),
    service_start         date not null,
    service_end           date not null check (service_end >= service_start),
    service_place         text not null check (length(service_place) between 2 and 300),
    provider_types        text[] not null,
    min_rating            smallint check (min_rating between 1 and 5),
    min_years             smallint check (min_years between 0 and 50),
    cross_district        boolean not null,
    justification         text not null default '' check (length(justification) <= 4000),
    revision              integer not null default 1,
    created_by            bigint not null references users (id),
    created_at            timestamptz not null default now(),
    published_at          timestamptz,
    questions_close_at    timestamptz,
    deadline_at           timestamptz,
    cancelled_at          timestamptz,
    cancel_reason         text not null default '' check (length(cancel_reason) <= 1000),
    check (deadline_at is null or questions_close_at is null or questions_close_at <= deadline_at),
    check (published_at is null or deadline_at is not null or procedure_type = 'venture_round')
);
create index on calls (buyer_id);
create index on calls (project_id);
-- One live call per project: a new one only after the last was cancelled.
create unique index calls_one_live_per_project on calls (project_id) where cancelled_at is null;

create table call_criteria (
    call_id     bigint not null references calls (id) on delete cascade,
    position    smallint not null,
    name_zh     text not null check (length(name_zh) between 1 and 100),
    name_en     text not null default '' check (length(name_en) <= 200),
    weight      smallint not null check (weight between 1 and 100),
    min_score   smallint check (min_score between 0 and 100),
    is_price    boolean not null default false,
    primary key (call_id, position)
);

-- Every change to a published call, kept and shown.
create table call_revisions (
    call_id      bigint not null references calls (id),
    revision     integer not null,
    changed_at   timestamptz not null default now(),
    changed_by   bigint not null references users (id),
    changes      jsonb not null,
    deadline_moved_to timestamptz,
    primary key (call_id, revision)
);
