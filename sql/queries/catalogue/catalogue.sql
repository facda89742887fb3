-- name: insert_version$
insert into catalogue_versions (buyer_id, year, revision, title_zh, title_en)
values (:buyer_id, :year,
        coalesce((select max(revision) + 1 from catalogue_versions where buyer_id = :buyer_id and year = :year), 1),
        :title_zh, :title_en)
returning id;

-- name: version^
select * from catalogue_versions where id = :id;

-- name: version_for_update^
select * from catalogue_versions where id = :id for update;

-- name: versions_of_buyer
select * from catalogue_versions where buyer_id = :buyer_id order by year desc, revision desc;

-- name: published_versions
select v.*, o.name_zh as buyer_name_zh, o.name_en as buyer_name_en,
       (select count(*) from catalogue_entries e where e.version_id = v.id and e.level = 'item') as items
  from catalogue_versions v join organisations o on o.id = v.buyer_id
 where v.status = 'published'
 order by o.name_zh, v.year desc;

-- name: set_version_status!
update catalogue_versions
   set status = :status,
       published_at = case when :status = 'published' then market_now() else published_at end,
       retired_at = case when :status = 'retired' then market_now() else retired_at end
 where id = :id;

-- name: delete_version!
delete from catalogue_versions where id = :id;

-- name: entries
select * from catalogue_entries where version_id = :version_id order by position;

-- name: entry^
select e.*, v.status as version_status, v.buyer_id from catalogue_entries e
  join catalogue_versions v on v.id = e.version_id where e.id = :id;

-- name: delete_entries!
delete from catalogue_entries where version_id = :version_id;

-- name: insert_entries*!
insert into catalogue_entries (version_id, code, level, parent_code, name_zh, name_en, description_zh, description_en,
                               unit_zh, unit_en, price_min_fen, price_max_fen, provider_types, min_rating, min_years,
                               scope, indicators, position)
values (:version_id, :code, :level, :parent_code, :name_zh, :name_en, :description_zh, :description_en,
        :unit_zh, :unit_en, :price_min_fen, :price_max_fen, :provider_types, :min_rating, :min_years,
        :scope, :indicators, :position);

-- name: search_published_items
select e.*, v.buyer_id, v.year, o.name_zh as buyer_name_zh, o.name_en as buyer_name_en
  from catalogue_entries e
  join catalogue_versions v on v.id = e.version_id and v.status = 'published'
  join organisations o on o.id = v.buyer_id
 where e.level = 'item'
   and (:q::text is null or e.name_zh ilike '%' || :q || '%' or e.name_en ilike '%' || :q || '%'
        or e.description_zh ilike '%' || :q || '%' or e.description_en ilike '%' || :q || '%' or e.code = :q)
   and (:category::text is null or e.code like :category || '.%')
 order by o.name_zh, e.position
 limit :limit offset :offset;
