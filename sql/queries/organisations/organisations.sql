-- name: insert_organisation$
insert into organisations (kind, subtype, name_zh, name_en, credit_code, jurisdiction_id, rating, registration_date,
                           description, contact_name, contact_phone, contact_email, address, status, verified_at)
values (:kind, :subtype, :name_zh, :name_en, :credit_code, :jurisdiction_id, :rating, :registration_date,
        :description, :contact_name, :contact_phone, :contact_email, :address, :status,
        case when :status = 'verified' then market_now() end)
on conflict (credit_code) do nothing
returning id;

-- name: organisation^
select * from organisations where id = :id;

-- name: organisation_for_update^
select * from organisations where id = :id for update;

-- name: organisation_by_code^
select * from organisations where credit_code = :credit_code;

-- name: update_organisation!
update organisations
   set name_zh = :name_zh, name_en = :name_en, description = :description, contact_name = :contact_name,
       contact_phone = :contact_phone, contact_email = :contact_email, address = :address, rating = :rating
 where id = :id;

-- name: set_status!
update organisations
   set status = :status, status_reason = :reason,
       verified_at = case when :status = 'verified' then coalesce(verified_at, market_now()) else verified_at end
 where id = :id;

-- name: public_organisations
select * from organisations
 where status = 'verified' and kind <> 'platform'
   and (:kind::text is null or kind = :kind)
   and (:q::text is null or name_zh ilike '%' || :q || '%' or name_en ilike '%' || :q || '%')
 order by kind, name_zh
 limit :limit offset :offset;

-- name: organisations_with_status
select * from organisations where status = :status order by created_at, id limit :limit;

-- name: count_verified_by_kind
select kind, count(*) as n from organisations where status = 'verified' and kind <> 'platform' group by kind;
