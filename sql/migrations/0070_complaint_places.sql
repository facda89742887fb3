-- The complaints list by place, as the needs list (0056): residents look up what was complained of in
-- their community, street or district. Each complaint carries its street and district, set from its
-- community by the needs' trigger function (it reads new.community_id and sets new.street_id and
-- new.district_id, whatever the table), and each level has a newest-first index.
alter table complaints add column street_id int, add column district_id int;

create trigger complaints_place before insert or update of community_id on complaints
    for each row execute function needs_place();

update complaints c set street_id = j.parent_id, district_id = up.parent_id
  from jurisdictions j join jurisdictions up on up.id = j.parent_id
 where j.id = c.community_id and j.level = 'community';

create index complaints_district_lodged on complaints (district_id, lodged_at desc, id desc);
create index complaints_street_lodged on complaints (street_id, lodged_at desc, id desc);
create index complaints_community_lodged on complaints (community_id, lodged_at desc, id desc);
analyze complaints;
