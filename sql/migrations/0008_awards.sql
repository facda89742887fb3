-- Awards and objections (质疑). One award stands per call, enforced by the database, so racing
-- requests cannot award twice. An upheld objection reopens the evaluation.

alter table calls add column awarded_at timestamptz, add column notice_ends_at timestamptz;

create table awards (
    id              bigserial primary key,
    call_id         bigint not null references calls (id),
    bid_id          bigint not null references bids (id),
    panel_id        bigint not null references panels (id),
    amount_fen      bigint not null check (amount_fen > 0),
    total           numeric(5, 2),
    awarded_by      bigint not null references users (id),
    awarded_at      timestamptz not null default now(),
    notice_ends_at  timestamptz not null,
    reopened_at     timestamptz
);
create unique index awards_one_per_call on awards (call_id) where reopened_at is null;

create table objections (
    id            bigserial primary key,
    award_id      bigint not null references awards (id),
    raised_by     bigint not null references users (id),
    raised_for    bigint not null references organisations (id),
    text          text not null check (length(text) between 10 and 4000),
    raised_at     timestamptz not null default now(),
    status        text not null default 'pending' check (status in ('pending', 'upheld', 'rejected')),
    answer        text check (length(answer) between 5 and 4000),
    answered_by   bigint references users (id),
    answered_at   timestamptz,
    check ((status = 'pending') = (answered_at is null))
);
create index on objections (award_id);
