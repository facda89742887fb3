-- Contracts (合同) generated from the standard template after the award's notice period, with
-- milestones for delivery, reports and payments, signed in the app by both parties.

create table contracts (
    id                  bigserial primary key,
    call_id             bigint not null unique references calls (id),
    award_id            bigint not null references awards (id),
    buyer_id            bigint not null references organisations (id),
    provider_id         bigint not null references organisations (id),
    amount_fen          bigint not null check (amount_fen > 0),
    service_start       date not null,
    service_end         date not null,
    status              text not null default 'draft'
                        check (status in ('draft', 'buyer_signed', 'provider_signed', 'signed')),
    created_by          bigint not null references users (id),
    created_at          timestamptz not null default now(),
    buyer_signed_by     bigint references users (id),
    buyer_signed_at     timestamptz,
    provider_signed_by  bigint references users (id),
    provider_signed_at  timestamptz
);

create table contract_milestones (
    contract_id      bigint not null references contracts (id),
    position         smallint not null,
    kind             text not null check (kind in ('delivery', 'report', 'payment')),
    title            text not null check (length(title) between 2 and 200),
    due_date         date not null,
    payment_percent  smallint check (payment_percent between 1 and 100),
    primary key (contract_id, position),
    check ((kind = 'payment') = (payment_percent is not null))
);
