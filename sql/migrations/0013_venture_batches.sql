-- Review batches of an all-year venture round (公益创投): the buyer cuts off the proposals received
-- so far; they are opened to the buyer and a panel, and every proposal that reaches the minimum
-- scores is funded in rank order while the round's budget lasts. A provider may propose again for
-- a later batch, so one open (unbatched) bid per provider replaces one bid per provider.

create table call_batches (
    id              bigserial primary key,
    call_id         bigint not null references calls (id),
    number          integer not null check (number > 0),
    cut_off_at      timestamptz not null default now(),
    cut_off_by      bigint not null references users (id),
    decided_at      timestamptz,
    decided_by      bigint references users (id),
    notice_ends_at  timestamptz,
    unique (call_id, number),
    check ((decided_at is null) = (notice_ends_at is null))
);

alter table bids add column batch_id bigint references call_batches (id);
create index on bids (batch_id);
alter table bids drop constraint bids_call_id_provider_id_key;
create unique index bids_one_open_per_provider on bids (call_id, provider_id) where batch_id is null;

alter table awards add column batch_id bigint references call_batches (id);
drop index awards_one_per_call;
create unique index awards_one_per_call on awards (call_id) where reopened_at is null and batch_id is null;
create unique index awards_one_per_bid on awards (bid_id) where reopened_at is null;

-- An objection to a batch's decision may come from a proposal that was not funded at all.
alter table objections add column batch_id bigint references call_batches (id),
                       alter column award_id drop not null,
                       add check (award_id is not null or batch_id is not null);

alter table contracts drop constraint contracts_call_id_key,
                      add constraint contracts_one_per_award unique (award_id);

alter table panels drop constraint panels_subject_type_check,
                   add check (subject_type in ('call', 'batch', 'midterm', 'final'));
