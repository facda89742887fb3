-- The foundation: jurisdictions, organisations, accounts, sessions, files and the audit trail.

-- The application connects as (or sets its role to) market_app. It may read and write ordinary
-- tables, but append-only tables revoke UPDATE, DELETE and TRUNCATE from it.
do $$
begin
    if not exists (select from pg_roles where rolname = 'market_app') then
        create role market_app nologin;
    end if;
end
$$;
grant market_app to current_user;
grant usage on schema public to market_app;
alter default privileges in schema public grant select, insert, update, delete on tables to market_app;
alter default privileges in schema public grant usage, select on sequences to market_app;

create table jurisdictions (
    id          serial primary key,
    parent_id   integer references jurisdictions (id),
    level       text not null check (level in ('district', 'street', 'community', 'grid')),
    code        text not null unique check (code ~ '^[0-9A-Za-z-]{2,32}$'),
    name_zh     text not null check (length(name_zh) between 1 and 100),
    name_en     text not null check (length(name_en) between 1 and 200),
    check ((level = 'district') = (parent_id is null))
);
create index on jurisdictions (parent_id);

-- A child sits exactly one level below its parent: district → street → community → grid.
create function jurisdictions_check_level() returns trigger language plpgsql as $$
declare parent_level text;
begin
    if new.parent_id is null then
        return new;
    end if;
    select level into parent_level from jurisdictions where id = new.parent_id;
    if (parent_level, new.level) not in (('district', 'street'), ('street', 'community'), ('community', 'grid')) then
        raise exception 'a % cannot sit under a %', new.level, parent_level using errcode = 'check_violation';
    end if;
    return new;
end
$$;
create trigger jurisdictions_level before insert or update on jurisdictions
    for each row execute function jurisdictions_check_level();

create table organisations (
    id                bigserial primary key,
    kind              text not null check (kind in ('buyer', 'provider', 'funder', 'evaluator', 'platform')),
    subtype           text not null,
    name_zh           text not null check (length(name_zh) between 2 and 100),
    name_en           text not null default '' check (length(name_en) <= 200),
    credit_code       char(18) unique check (credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'),
    jurisdiction_id   integer not null references jurisdictions (id),
    rating            smallint check (rating between 1 and 5),
    registration_date date,
    description       text not null default '' check (length(description) <= 4000),
    contact_name      text not null default '' check (length(contact_name) <= 100),
    contact_phone     text not null default '' check (length(contact_phone) <= 40),
    contact_email     text not null default '' check (length(contact_email) <= 254),
    address           text not null default '' check (length(address) <= 300),
    status            text not null default 'pending'
                      check (status in ('pending', 'verified', 'rejected', 'suspended')),
    status_reason     text not null default '' check (length(status_reason) <= 1000),
    created_at        timestamptz not null default now(),
    verified_at       timestamptz,
    check (
        (kind = 'buyer' and subtype in ('bureau', 'street_office', 'community'))
        or (kind = 'provider' and subtype in ('social_group', 'social_service_agency', 'foundation'))
        or (kind = 'funder' and subtype in ('enterprise', 'foundation', 'individual'))
        or (kind = 'evaluator' and subtype in ('agency', 'expert'))
        or (kind = 'platform' and subtype = 'platform')
    ),
    -- Individual donors and individual experts have no unified social credit code.
    check (credit_code is not null or subtype in ('individual', 'expert')),
    check (rating is null or kind = 'provider'),
    check (kind <> 'provider' or registration_date is not null)
);
create index on organisations (kind, status);
create index on organisations (jurisdiction_id);

create table users (
    id                  bigserial primary key,
    email               text not null check (email = lower(email) and length(email) <= 254),
    display_name        text not null check (length(display_name) between 1 and 100),
    password_hash       text not null,
    locale              text not null default 'zh_Hans' check (locale in ('zh_Hans', 'en')),
    community_id        integer references jurisdictions (id),
    status              text not null default 'active' check (status in ('active', 'disabled')),
    failed_logins       integer not null default 0,
    locked_until        timestamptz,
    created_at          timestamptz not null default now(),
    password_changed_at timestamptz not null default now()
);
create unique index users_email on users (email);

create table memberships (
    user_id         bigint not null references users (id),
    organisation_id bigint not null references organisations (id),
    role            text not null check (role in ('admin', 'staff', 'finance', 'evaluator')),
    created_at      timestamptz not null default now(),
    primary key (user_id, organisation_id)
);
create index on memberships (organisation_id);

-- Sessions live here, not in a process, so any number of app processes can serve a user.
create table sessions (
    token_hash      text primary key,
    user_id         bigint not null references users (id) on delete cascade,
    organisation_id bigint references organisations (id),
    created_at      timestamptz not null default now(),
    expires_at      timestamptz not null,
    foreign key (user_id, organisation_id) references memberships (user_id, organisation_id) on delete set null (organisation_id)
);
create index on sessions (user_id);
create index on sessions (expires_at);

create table password_resets (
    token_hash text primary key,
    user_id    bigint not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);

create table files (
    id              uuid primary key,
    organisation_id bigint references organisations (id),
    uploaded_by     bigint not null references users (id),
    storage_key     text not null unique,
    filename        text not null check (length(filename) between 1 and 255),
    content_type    text not null,
    size_bytes      bigint not null check (size_bytes > 0),
    sha256          text not null,
    visibility      text not null check (visibility in ('public', 'private')),
    created_at      timestamptz not null default now()
);
create index on files (organisation_id);

-- The audit trail: append-only and hash-chained. Each entry's hash covers its content and the
-- previous entry's hash, so an edited, inserted or deleted row breaks the chain.
create table audit_events (
    id              bigserial primary key,
    at              timestamptz not null,
    actor_user_id   bigint,
    organisation_id bigint,
    verb            text not null,
    object_type     text not null,
    object_id       text not null,
    diff            jsonb not null,
    prev_hash       text not null,
    hash            text not null unique
);
create index on audit_events (organisation_id, id);
create index on audit_events (object_type, object_id);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_events_no_update before update or delete on audit_events
    for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only();

grant select, insert, update, delete on all tables in schema public to market_app;
grant usage, select on all sequences in schema public to market_app;
revoke update, delete, truncate on audit_events from market_app;
revoke insert, update, delete, truncate on schema_migrations from market_app;
