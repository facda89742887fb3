-- The evaluation engine: a panel scores candidates against weighted criteria. Built for bids on a
-- call first; mid-term and final evaluation of delivery reuse it with another subject.

create table panels (
    id            bigserial primary key,
    subject_type  text not null check (subject_type in ('call', 'midterm', 'final')),
    subject_id    bigint not null,
    owner_id      bigint not null references organisations (id),
    created_by    bigint not null references users (id),
    created_at    timestamptz not null default now(),
    closed_at     timestamptz,
    unique (subject_type, subject_id)
);

create table panel_members (
    panel_id   bigint not null references panels (id),
    user_id    bigint not null references users (id),
    role       text not null check (role in ('chair', 'member')),
    added_at   timestamptz not null default now(),
    primary key (panel_id, user_id)
);
create unique index panel_one_chair on panel_members (panel_id) where role = 'chair';

create table panel_criteria (
    panel_id   bigint not null references panels (id),
    position   smallint not null,
    name_zh    text not null,
    name_en    text not null default '',
    weight     smallint not null check (weight between 1 and 100),
    min_score  smallint check (min_score between 0 and 100),
    is_price   boolean not null default false,
    primary key (panel_id, position)
);

create table panel_candidates (
    panel_id      bigint not null references panels (id),
    candidate_id  bigint not null,
    organisation_id bigint not null references organisations (id),
    label         text not null,
    price_fen     bigint check (price_fen > 0),
    submitted_at  timestamptz not null,
    primary key (panel_id, candidate_id)
);

-- Every member declares, for every candidate, whether they have a conflict of interest; a member
-- with a conflict does not score that candidate.
create table panel_declarations (
    panel_id      bigint not null references panels (id),
    user_id       bigint not null references users (id),
    candidate_id  bigint not null,
    conflicted    boolean not null,
    note          text not null default '' check (length(note) <= 1000),
    declared_at   timestamptz not null default now(),
    primary key (panel_id, user_id, candidate_id),
    foreign key (panel_id, user_id) references panel_members (panel_id, user_id),
    foreign key (panel_id, candidate_id) references panel_candidates (panel_id, candidate_id)
);

-- A score of null is "not applicable": missing, never zero.
create table panel_scores (
    panel_id      bigint not null references panels (id),
    user_id       bigint not null references users (id),
    candidate_id  bigint not null,
    position      smallint not null,
    score         numeric(5, 2) check (score between 0 and 100),
    note          text not null default '' check (length(note) <= 2000),
    scored_at     timestamptz not null default now(),
    primary key (panel_id, user_id, candidate_id, position),
    foreign key (panel_id, candidate_id) references panel_candidates (panel_id, candidate_id),
    foreign key (panel_id, position) references panel_criteria (panel_id, position)
);

-- The chair's consensus score per candidate and criterion, after the individual scores.
create table panel_consensus (
    panel_id      bigint not null references panels (id),
    candidate_id  bigint not null,
    position      smallint not null,
    score         numeric(5, 2) check (score between 0 and 100),
    note          text not null default '' check (length(note) <= 2000),
    recorded_by   bigint not null references users (id),
    recorded_at   timestamptz not null default now(),
    primary key (panel_id, candidate_id, position),
    foreign key (panel_id, candidate_id) references panel_candidates (panel_id, candidate_id),
    foreign key (panel_id, position) references panel_criteria (panel_id, position)
);
