-- name: all_jurisdictions
select * from jurisdictions order by id;

-- name: jurisdiction^
select * from jurisdictions where id = :id;

-- name: insert_jurisdiction$
insert into jurisdictions (parent_id, level, code, name_zh, name_en)
values (:parent_id, :level, :code, :name_zh, :name_en)
on conflict (code) do update set name_zh = excluded.name_zh
returning id;

-- name: ancestors
with recursive up as (
    select id, parent_id, level from jurisdictions where id = :id
    union all
    select j.id, j.parent_id, j.level from jurisdictions j join up on j.id = up.parent_id
)
select id, level from up;
