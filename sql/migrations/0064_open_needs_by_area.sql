-- A buyer's workbench lists the open needs of its area, oldest first, with how many there are: read
-- in that order from its district's or street's own range (a community's needs are few, and the
-- needs' community index serves them).
create index needs_open_by_district on needs (district_id, created_at, id) where status = 'open';
create index needs_open_by_street on needs (street_id, created_at, id) where status = 'open';
