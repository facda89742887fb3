-- Questions on a call: asked by providers before the question deadline, answered publicly.
-- Who asked is kept for the platform alone.

create table call_questions (
    id           bigserial primary key,
    call_id      bigint not null references calls (id),
    asked_by     bigint not null references users (id),
    asked_for    bigint not null references organisations (id),
    question     text not null check (length(question) between 5 and 2000),
    asked_at     timestamptz not null default now(),
    answer       text check (length(answer) between 2 and 4000),
    answered_by  bigint references users (id),
    answered_at  timestamptz,
    check ((answer is null) = (answered_at is null))
);
create index on call_questions (call_id, id);
