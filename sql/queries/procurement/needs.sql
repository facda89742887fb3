-- name: descendants
with recursive down as (
    select id from jurisdictions where id = :id
    union all
    select j.id from jurisdictions j join down on j.parent_id = down.id
)
select id from down;
