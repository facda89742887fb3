-- A call fails when too few bids stand, or none reaches the minimum scores; its project may then
-- have a new call.
alter table calls add column failed_at timestamptz,
                  add column fail_reason text not null default '' check (length(fail_reason) <= 1000);
drop index calls_one_live_per_project;
create unique index calls_one_live_per_project on calls (project_id) where cancelled_at is null and failed_at is null;
