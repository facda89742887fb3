-- Issue 17: a street's or a district's needs were read by walking the whole needs list in its order
-- for the rows in any of its communities (a district holds 100-400 of them): 2.6 ms a page on the
-- city, and the planner's choice of plan swung with its statistics. Each need now carries its street
-- and district, set from its community by a trigger, and each has a list index, so a page of a
-- district's needs is read in order from the district's own range. A place's parent never changes
-- (an import updates names only): a trigger refuses the change that would leave these stale.
alter table needs add column street_id int, add column district_id int;

create function needs_place() returns trigger language plpgsql as $$
begin
    select case j.level when 'community' then j.parent_id when 'street' then j.id end,
           case j.level when 'community' then up.parent_id when 'street' then j.parent_id when 'district' then j.id end
      into new.street_id, new.district_id
      from jurisdictions j left join jurisdictions up on up.id = j.parent_id
     where j.id = new.community_id;
    return new;
end $$;

create trigger needs_place before insert or update of community_id on needs
    for each row execute function needs_place();

update needs n set street_id = j.parent_id, district_id = up.parent_id
  from jurisdictions j join jurisdictions up on up.id = j.parent_id
 where j.id = n.community_id and j.level = 'community';

create function jurisdictions_parent_fixed() returns trigger language plpgsql as $$
begin
    raise exception 'a place''s parent does not change (needs keep their street and district)';
end $$;

create trigger jurisdictions_parent_fixed before update of parent_id on jurisdictions
    for each row when (old.parent_id is distinct from new.parent_id) execute function jurisdictions_parent_fixed();

create index needs_district_list_idx on needs (district_id, (status = 'open'), supporters, created_at, id);
create index needs_street_list_idx on needs (street_id, (status = 'open'), supporters, created_at, id);
analyze needs;
