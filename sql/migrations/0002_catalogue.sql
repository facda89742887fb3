-- The purchasing catalogue (政府购买服务指导性目录): yearly versions of a three-level tree.

create table catalogue_versions (
    id              bigserial primary key,
    buyer_id        bigint not null references organisations (id),
    year            smallint not null check (year between 2000 and 2100),
    revision        smallint not null default 1 check (revision between 1 and 99),
    title_zh        text not null check (length(title_zh) between 2 and 200),
    title_en        text not null default '' check (length(title_en) <= 300),
    status          text not null default 'draft' check (status in ('draft', 'published', 'retired')),
    created_at      timestamptz not null default now(),
    published_at    timestamptz,
    retired_at      timestamptz,
    unique (buyer_id, year, revision)
);
-- A buyer has one catalogue in force at a time.
create unique index catalogue_versions_one_published on catalogue_versions (buyer_id) where status = 'published';

create table catalogue_entries (
    id                 bigserial primary key,
    version_id         bigint not null references catalogue_versions (id) on delete cascade,
    code               text not null check (code ~ '^[0-9]{2}(\.[0-9]{2}){0,2}$'),
    level              text not null check (level in ('category', 'subcategory', 'item')),
    parent_code        text,
    name_zh            text not null check (length(name_zh) between 1 and 100),
    name_en            text not null check (length(name_en) between 1 and 200),
    description_zh     text not null default '' check (length(description_zh) <= 1000),
    description_en     text not null default '' check (length(description_en) <= 2000),
    unit_zh            text,
    unit_en            text,
    price_min_fen      bigint check (price_min_fen > 0),
    price_max_fen      bigint check (price_max_fen >= price_min_fen),
    provider_types     text[],
    min_rating         smallint check (min_rating between 1 and 5),
    min_years          smallint check (min_years between 0 and 50),
    scope              text check (scope in ('district', 'any')),
    indicators         jsonb not null default '[]',
    position           integer not null,
    unique (version_id, code),
    check ((level = 'category') = (parent_code is null)),
    check (level <> 'item' or (unit_zh is not null and price_min_fen is not null and price_max_fen is not null
                               and provider_types is not null and scope is not null))
);
create index on catalogue_entries (version_id, position);

-- A published or retired version is the record of what government could buy: it never changes.
create function catalogue_entries_frozen() returns trigger language plpgsql as $$
declare v_status text;
begin
    select status into v_status from catalogue_versions
     where id = coalesce(new.version_id, old.version_id);
    -- no version: it is being deleted (a draft; the version's own trigger checked that)
    if v_status is not null and v_status <> 'draft' then
        raise exception 'catalogue version % is % and cannot change', coalesce(new.version_id, old.version_id), v_status
            using errcode = 'integrity_constraint_violation';
    end if;
    return coalesce(new, old);
end
$$;
create trigger catalogue_entries_frozen before insert or update or delete on catalogue_entries
    for each row execute function catalogue_entries_frozen();

create function catalogue_versions_frozen() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        if old.status <> 'draft' then
            raise exception 'catalogue version % is % and cannot be deleted', old.id, old.status
                using errcode = 'integrity_constraint_violation';
        end if;
        return old;
    end if;
    if old.status <> 'draft' and (new.buyer_id, new.year, new.revision, new.title_zh, new.title_en)
                                 is distinct from (old.buyer_id, old.year, old.revision, old.title_zh, old.title_en) then
        raise exception 'catalogue version % is % and cannot change', old.id, old.status
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end
$$;
create trigger catalogue_versions_frozen before update or delete on catalogue_versions
    for each row execute function catalogue_versions_frozen();
