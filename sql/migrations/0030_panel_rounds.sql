-- Delivery evaluation rounds on the panel engine.
-- An owner may hand the forming of its panel to a third-party agency (an evaluator organisation),
-- whose staff then assign their own experts.
alter table panels add column agency_id bigint references organisations (id);
create index panels_agency on panels (agency_id) where agency_id is not null;

-- A member submits their scores as a whole; only then do they see the other members' scores.
alter table panel_members add column submitted_at timestamptz;
-- The workload of an expert: the panels still open that they sit on.
create index panel_members_user on panel_members (user_id);

-- Document review and site-visit notes.
create table panel_notes (
    id            bigserial primary key,
    panel_id      bigint not null references panels (id),
    user_id       bigint not null references users (id),
    candidate_id  bigint not null,
    kind          text not null check (kind in ('document', 'site')),
    body          text not null check (length(body) between 2 and 4000),
    created_at    timestamptz not null default market_now(),
    foreign key (panel_id, user_id) references panel_members (panel_id, user_id),
    foreign key (panel_id, candidate_id) references panel_candidates (panel_id, candidate_id)
);
create index on panel_notes (panel_id, created_at);
