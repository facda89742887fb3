-- Issue 17: every public list read from an index that serves its order, and search that works for
-- Chinese and English.
--
-- Search: pg_trgm makes trigrams only of characters the locale calls alphanumeric, and a Chinese
-- query is often two characters (养老), from which no trigram is made. So each searchable text has
-- its own grams, in a GIN index: every pair of adjacent Chinese characters, and every pair and triple
-- of letters or digits within a Latin word, lower-cased. A query's grams (pairs of Chinese, triples of
-- a Latin word of 3 or more letters, the word itself if it has 2) are all in the text's whenever the
-- query occurs in it; the index finds those rows and LIKE then checks the phrase itself. Nothing here
-- depends on the cluster's locale, and no system package is needed.
create function market_grams(body text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(body), '[㐀-鿿豈-﫿]+|[a-z0-9]+', 'g') as m(parts)
    cross join (values (2), (3)) as g(n)
    cross join lateral generate_series(1, length(m.parts[1]) - g.n + 1) as i
   where g.n = 2 or m.parts[1] ~ '^[a-z0-9]'
$$;

create function market_query_grams(query text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(query), '[㐀-鿿豈-﫿]+|[a-z0-9]+', 'g') as m(parts)
    cross join lateral (select case when m.parts[1] ~ '^[a-z0-9]{3}' then 3 else 2 end as n) as g
    cross join lateral generate_series(1, length(m.parts[1]) - g.n + 1) as i
$$;

-- Needs: open first, then most supported, then newest (the id last, so each has one place).
create index needs_list_idx on needs ((status = 'open'), supporters, created_at, id);
create index needs_status_list_idx on needs (status, supporters, created_at, id);
create index needs_community_list_idx on needs (community_id, (status = 'open'), supporters, created_at, id);
create index needs_suggested_entry_id_idx on needs (suggested_entry_id);
create index needs_search_idx on needs using gin (market_grams(title || ' ' || description));

-- Projects: newest first.
create index projects_list_idx on projects (created_at, id);
create index projects_jurisdiction_list_idx on projects (jurisdiction_id, created_at, id);
create index projects_status_list_idx on projects (status, created_at, id);
create index projects_catalogue_entry_id_idx on projects (catalogue_entry_id);
create index projects_search_idx on projects using gin (market_grams(title_zh || ' ' || title_en || ' ' || description));

-- Calls: the published ones, newest first.
create index calls_list_idx on calls (published_at, id) where published_at is not null;
create index calls_procedure_list_idx on calls (procedure_type, published_at, id) where published_at is not null;
create index calls_search_idx on calls using gin (market_grams(title_zh || ' ' || title_en || ' ' || description));

-- The directory: verified organisations by kind, then name.
create index organisations_directory_idx on organisations (kind, name_zh, id)
 where status = 'verified' and kind <> 'platform';
create index organisations_search_idx on organisations using gin (market_grams(name_zh || ' ' || name_en));

-- Resources: those still offered first, then newest.
create index resources_list_idx on resources ((withdrawn_at is null), created_at, id);
create index resources_search_idx on resources using gin (market_grams(title || ' ' || description));

-- Catalogue items (a few thousand): found by their names and descriptions in both languages.
create index catalogue_entries_search_idx on catalogue_entries
 using gin (market_grams(name_zh || ' ' || name_en || ' ' || description_zh || ' ' || description_en));
