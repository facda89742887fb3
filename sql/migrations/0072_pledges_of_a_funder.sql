-- A funder's own pledges a page at a time, newest first (its list and its dashboard): a foundation may
-- make thousands, and the dashboard read every one of them at every visit.
create index pledges_of_funder on pledges (funder_id, created_at desc, id desc);
drop index pledges_funder_id_idx;
