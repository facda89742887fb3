-- Notifications: an in-app inbox, and the same message by email through an outbox that any app
-- process may drain (rows are claimed with FOR UPDATE SKIP LOCKED).

create table notifications (
    id            bigserial primary key,
    user_id       bigint not null references users (id),
    kind          text not null,
    params        jsonb not null,
    link          text not null check (link ~ '^/'),
    created_at    timestamptz not null default now(),
    read_at       timestamptz,
    email_status  text not null default 'pending' check (email_status in ('pending', 'sent', 'failed')),
    emailed_at    timestamptz
);
create index on notifications (user_id, id desc);
create index notifications_outbox on notifications (id) where email_status = 'pending';
-- A reminder is sent once per person and call.
create unique index notifications_one_reminder on notifications (user_id, link) where kind = 'deadline_soon';
