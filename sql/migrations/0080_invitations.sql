-- An organisation's administrator asks someone with no account yet to join it: the link emailed to the
-- address, which only its owner receives, lets them sign up (or log in) and join with the role offered
-- (market/accounts/invitations.py). An invitation ends when it is taken up or withdrawn; asking the same
-- address again ends the one before, so at most one is open for a person and an organisation.
create table invitations (
    id              bigserial primary key,
    organisation_id bigint not null references organisations (id),
    email           text not null check (length(email) between 3 and 254),
    role            text not null check (role in ('admin', 'staff', 'finance', 'evaluator')),
    token_hash      text not null unique,
    invited_by      bigint not null references users (id),
    created_at      timestamptz not null default market_now(),
    expires_at      timestamptz not null,
    ended_at        timestamptz,
    accepted_by     bigint references users (id),
    check (accepted_by is null or ended_at is not null)
);
create unique index invitations_open on invitations (organisation_id, email) where ended_at is null;
