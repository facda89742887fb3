-- Online payments through Stripe Checkout: the session a payment is made in, the events Stripe
-- sends (each applied once, in the same transaction as its effect) and refunds waiting to be sent.

alter table payments
    add column stripe_session_id     text unique,
    add column stripe_payment_intent text unique,
    add column checkout_url          text check (length(checkout_url) <= 2000),
    -- Why an online payment failed (the session expired, the pledge was settled without it).
    add column failure               text not null default '' check (length(failure) <= 200),
    add check (method = 'stripe' or (stripe_session_id is null and stripe_payment_intent is null));

create table stripe_events (
    id          text primary key check (id ~ '^evt_'),
    type        text not null,
    created     timestamptz not null,
    payload     jsonb not null,
    source      text not null check (source in ('webhook', 'reconcile', 'demo')),
    received_at timestamptz not null default now(),
    -- False while the event waits for one it depends on (a refund seen before its payment).
    applied     boolean not null,
    outcome     text not null default '' check (length(outcome) <= 500)
);
create index on stripe_events (created);
create index stripe_events_waiting on stripe_events (created) where not applied;

-- A refund of an online payment is written with its ledger entries and sent to Stripe after the
-- transaction commits (again by the background task until Stripe has it): the books never wait on
-- the network, and a refund is never sent twice (its idempotency key is this row's id).
create table payment_refunds (
    id               bigserial primary key,
    payment_id       bigint not null unique references payments (id),
    amount_fen       bigint not null check (amount_fen > 0),
    status           text not null default 'pending' check (status in ('pending', 'sent')),
    stripe_refund_id text unique,
    attempts         integer not null default 0,
    last_error       text not null default '' check (length(last_error) <= 500),
    created_at       timestamptz not null default now(),
    sent_at          timestamptz,
    check ((status = 'sent') = (stripe_refund_id is not null))
);
create index payment_refunds_pending on payment_refunds (id) where status = 'pending';
