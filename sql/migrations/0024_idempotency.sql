-- A form (or an API request with an Idempotency-Key) acts once: the first request with a key claims
-- it, and its response is kept, so a second submission — a double click, Back and resubmit, a retry
-- — gets the same answer instead of doing the thing again.
create table idempotency_keys (
    user_id       bigint not null,          -- 0 for a visitor who is not logged in
    key           text not null check (length(key) between 8 and 200),
    method        text not null,
    path          text not null,
    claimed_at    timestamptz not null default market_now(),
    status        smallint,                 -- null while the first request is still running
    location      text,
    content_type  text,
    body          bytea,
    primary key (user_id, key)
);
create index on idempotency_keys (claimed_at);
