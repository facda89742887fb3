-- The complaint clock's reminder before a deadline (market/complaints/jobs.py), once per deadline
-- however many processes run it: the primary key is what lets only one of them record (and notify) it.
-- A deadline moved by an escalation or a reopening is a new deadline, and is reminded again.
create table complaint_reminders (
    complaint_id bigint not null references complaints (id),
    due_on       date not null,
    reminded_at  timestamptz not null default market_now(),
    primary key (complaint_id, due_on)
);
