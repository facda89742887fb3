-- Issue 17: the public list of resources (and a need's) counts what is offered now, public, not
-- withdrawn and not ended, on every first page. On the city (6,000 resources, 4,618 offered) that
-- count read the whole table, 1.1 ms of a page's 2 ms of SQL; on this index it reads the offered
-- entries' end dates alone, 0.5 ms.
create index resources_offered_idx on resources (available_until) where withdrawn_at is null and not private;
