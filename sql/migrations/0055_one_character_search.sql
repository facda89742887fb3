-- Issue 17: a search for one Chinese character (老, 残, 孤: each a word people search by) had no gram
-- in the index and read every row of the list. Each Chinese character is now a gram of its own beside
-- the pairs; a query word of one character asks for it, longer words for their pairs as before.
create or replace function market_grams(body text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(body), '[㐀-鿿豈-﫿]+|[a-z0-9]+', 'g') as m(parts)
    cross join (values (1), (2), (3)) as g(n)
    cross join lateral generate_series(1, length(m.parts[1]) - g.n + 1) as i
   where g.n = 2 or (g.n = 3 and m.parts[1] ~ '^[a-z0-9]') or (g.n = 1 and m.parts[1] !~ '^[a-z0-9]')
$$;

create or replace function market_query_grams(query text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(query), '[㐀-鿿豈-﫿]+|[a-z0-9]+', 'g') as m(parts)
    cross join lateral (select case when m.parts[1] ~ '^[a-z0-9]{3}' then 3
                                    when length(m.parts[1]) = 1 and m.parts[1] !~ '^[a-z0-9]' then 1
                                    else 2 end as n) as g
    cross join lateral generate_series(1, length(m.parts[1]) - g.n + 1) as i
$$;

-- The indexes hold the grams the function made: made anew.
reindex index needs_search_idx;
reindex index projects_search_idx;
reindex index calls_search_idx;
reindex index organisations_search_idx;
reindex index resources_search_idx;
reindex index catalogue_entries_search_idx;
analyze needs, projects, calls, organisations, resources, catalogue_entries;
