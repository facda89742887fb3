-- Issue 17: a search puts the rows whose title is the query first, and reads them apart from the
-- rest (market.core.keyset), on these indexes.
create index needs_title_idx on needs (lower(title));
create index projects_title_zh_idx on projects (lower(title_zh));
create index projects_title_en_idx on projects (lower(title_en));
create index calls_title_zh_idx on calls (lower(title_zh));
create index calls_title_en_idx on calls (lower(title_en));
create index organisations_name_zh_idx on organisations (lower(name_zh));
create index organisations_name_en_idx on organisations (lower(name_en));
create index resources_title_idx on resources (lower(title));

-- A place's published calls, counted from its projects without reading the calls themselves.
create index calls_published_by_project on calls (project_id) where published_at is not null;

-- How a search reads its page depends on how many rows the planner expects to hold its words, from
-- the statistics of the grams indexes (migration 0040), which a database that has not changed much
-- since would not have until autovacuum came by.
analyze needs, projects, calls, organisations, resources, catalogue_entries;
