-- name: insert_need$
insert into needs (raised_by, raised_for, community_id, title, description, beneficiaries, beneficiary_count,
                   urgency, suggested_entry_id)
values (:raised_by, :raised_for, :community_id, :title, :description, :beneficiaries, :beneficiary_count,
        :urgency, :suggested_entry_id)
returning id;

-- name: need^
select n.*, pn.project_id from needs n left join project_needs pn on pn.need_id = n.id where n.id = :id;

-- name: need_for_update^
select * from needs where id = :id for update;

-- name: set_need_status!
update needs set status = :status, status_reason = :reason, updated_at = market_now() where id = :id;

-- name: add_support$
insert into need_supports (need_id, user_id) values (:need_id, :user_id)
on conflict do nothing
returning need_id;

-- name: count_support!
update needs set supporters = supporters + 1 where id = :id;

-- name: list_needs
select n.*, pn.project_id from needs n
  left join project_needs pn on pn.need_id = n.id
  left join catalogue_entries e on e.id = n.suggested_entry_id
 where (:status::text is null or n.status = :status)
   and (:places::int[] is null or n.community_id = any(:places))
   and (:category::text is null or e.code like :category || '.%')
   and (:q::text is null or n.title ilike '%' || :q || '%' or n.description ilike '%' || :q || '%')
 order by n.status = 'open' desc, n.supporters desc, n.created_at desc
 limit :limit offset :offset;

-- name: count_needs$
select count(*) from needs n
  left join catalogue_entries e on e.id = n.suggested_entry_id
 where (:status::text is null or n.status = :status)
   and (:places::int[] is null or n.community_id = any(:places))
   and (:category::text is null or e.code like :category || '.%')
   and (:q::text is null or n.title ilike '%' || :q || '%' or n.description ilike '%' || :q || '%');

-- name: catalogue_items_for_district
select e.* from catalogue_entries e
  join catalogue_versions v on v.id = e.version_id and v.status = 'published'
  join organisations o on o.id = v.buyer_id and o.subtype = 'bureau' and o.status = 'verified'
 where e.level = 'item' and o.jurisdiction_id = :district
 order by e.position;

-- name: insert_project$
insert into projects (buyer_id, jurisdiction_id, catalogue_entry_id, title_zh, title_en, description, budget_fen,
                      budget_line, created_by)
values (:buyer_id, :jurisdiction_id, :catalogue_entry_id, :title_zh, :title_en, :description, :budget_fen,
        :budget_line, :created_by)
returning id;

-- name: link_need!
insert into project_needs (project_id, need_id) values (:project_id, :need_id);

-- name: project^
select p.*, coalesce((select array_agg(need_id order by need_id) from project_needs where project_id = p.id), '{}')
       as need_ids
  from projects p where p.id = :id;

-- name: list_projects
select p.*, coalesce((select array_agg(need_id order by need_id) from project_needs where project_id = p.id), '{}')
       as need_ids
  from projects p
  join catalogue_entries e on e.id = p.catalogue_entry_id
 where (:places::int[] is null or p.jurisdiction_id = any(:places))
   and (:category::text is null or e.code like :category || '.%')
   and (:status::text is null or p.status = :status)
 order by p.created_at desc
 limit :limit offset :offset;

-- name: count_projects$
select count(*) from projects p
  join catalogue_entries e on e.id = p.catalogue_entry_id
 where (:places::int[] is null or p.jurisdiction_id = any(:places))
   and (:category::text is null or e.code like :category || '.%')
   and (:status::text is null or p.status = :status);
