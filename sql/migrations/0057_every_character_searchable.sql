-- Issue 17: a query with no gram in the index (one letter or digit, x or 7; a sign, % or _; a letter
-- of another script) read the whole list row by row: 0.3-1.6 s of the database on the city for each
-- such request, which anyone can send. Every character is now a gram of its own: a letter or digit of
-- a word of a-z0-9 beside its pairs and triples, and any other sign or letter that is not a space.
-- A query asks for the grams it has: triples of an a-z0-9 word of three or more, a pair of one of two,
-- and one character alone for itself.
create or replace function market_grams(body text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(body), '[㐀-鿿豈-﫿]+|[a-z0-9]+|[^[:space:]　㐀-鿿豈-﫿a-z0-9]', 'g') as m(parts)
    cross join (values (1), (2), (3)) as g(n)
    cross join lateral generate_series(1, length(m.parts[1]) - g.n + 1) as i
   where g.n < 3 or m.parts[1] ~ '^[a-z0-9]'
$$;

create or replace function market_query_grams(query text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(distinct substr(m.parts[1], i, g.n)), '{}')
    from regexp_matches(lower(query), '[㐀-鿿豈-﫿]+|[a-z0-9]+|[^[:space:]　㐀-鿿豈-﫿a-z0-9]', 'g') as m(parts)
    cross join lateral (select case when m.parts[1] ~ '^[a-z0-9]{3}' then 3
                                    when length(m.parts[1]) = 1 then 1
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
