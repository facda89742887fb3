-- Indicator systems (指标体系) for evaluating delivery: versioned like the catalogue. A version
-- belongs to a bureau (or, owner null, to the platform), applies to a catalogue code (an item, a
-- sub-category or a category; null: every item) and a stage, and holds a tree of at most three
-- levels whose weights add up to 100 among siblings.

create table indicator_versions (
    id              bigserial primary key,
    owner_id        bigint references organisations (id),
    applies_to      text check (applies_to ~ '^[0-9]{2}(\.[0-9]{2}){0,2}$'),
    stage           text not null check (stage in ('midterm', 'final')),
    revision        smallint not null default 1 check (revision between 1 and 999),
    title_zh        text not null check (length(title_zh) between 2 and 200),
    title_en        text not null default '' check (length(title_en) <= 300),
    status          text not null default 'draft' check (status in ('draft', 'published', 'retired')),
    grade_a_min     numeric(5, 2) not null default 85,
    grade_b_min     numeric(5, 2) not null default 60,
    pass_grade      text not null default 'B' check (pass_grade in ('A', 'B', 'C')),
    created_by      bigint references users (id),
    created_at      timestamptz not null default market_now(),
    published_at    timestamptz,
    retired_at      timestamptz,
    check (0 < grade_b_min and grade_b_min < grade_a_min and grade_a_min <= 100),
    unique nulls not distinct (owner_id, applies_to, stage, revision)
);
-- One version of a system is in force at a time.
create unique index indicator_versions_one_published on indicator_versions (owner_id, applies_to, stage)
    nulls not distinct where status = 'published';

create table indicator_nodes (
    id              bigserial primary key,
    version_id      bigint not null references indicator_versions (id) on delete cascade,
    path            text not null check (path ~ '^[1-9][0-9]?(\.[1-9][0-9]?){0,2}$'),
    name_zh         text not null check (length(name_zh) between 1 and 100),
    name_en         text not null check (length(name_en) between 1 and 200),
    weight          smallint not null check (weight between 1 and 100),
    method          text check (method in ('scale', 'yesno', 'target')),
    anchors         jsonb not null default '[]',
    target          numeric(14, 2) check (target > 0),
    target_cap      numeric(4, 2) check (target_cap between 1 and 2),
    evidence_zh     text not null default '' check (length(evidence_zh) <= 500),
    evidence_en     text not null default '' check (length(evidence_en) <= 1000),
    na_allowed      boolean not null default false,
    satisfaction    boolean not null default false,
    unique (version_id, path)
);

-- A published or retired version is what contracts were signed under: it never changes.
create function indicator_nodes_frozen() returns trigger language plpgsql as $$
declare v_status text;
begin
    select status into v_status from indicator_versions where id = coalesce(new.version_id, old.version_id);
    if v_status is not null and v_status <> 'draft' then
        raise exception 'indicator system version % is % and cannot change',
            coalesce(new.version_id, old.version_id), v_status using errcode = 'integrity_constraint_violation';
    end if;
    return coalesce(new, old);
end
$$;
create trigger indicator_nodes_frozen before insert or update or delete on indicator_nodes
    for each row execute function indicator_nodes_frozen();

create function indicator_versions_frozen() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        if old.status <> 'draft' then
            raise exception 'indicator system version % is % and cannot be deleted', old.id, old.status
                using errcode = 'integrity_constraint_violation';
        end if;
        return old;
    end if;
    if old.status <> 'draft' and (new.owner_id, new.applies_to, new.stage, new.revision, new.title_zh, new.title_en,
                                  new.grade_a_min, new.grade_b_min, new.pass_grade)
                                 is distinct from (old.owner_id, old.applies_to, old.stage, old.revision, old.title_zh,
                                                   old.title_en, old.grade_a_min, old.grade_b_min, old.pass_grade) then
        raise exception 'indicator system version % is % and cannot change', old.id, old.status
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end
$$;
create trigger indicator_versions_frozen before update or delete on indicator_versions
    for each row execute function indicator_versions_frozen();
