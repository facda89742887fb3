-- The injectable clock: every time rule reads market_now(), which is the system clock moved by an
-- offset that only the demo loader and test mode ever set (production keeps it at zero).
create table clock_offset (
    only_row boolean primary key default true check (only_row),
    offset_seconds double precision not null default 0
);
insert into clock_offset default values;
revoke insert, delete, truncate on clock_offset from market_app;

create function market_now() returns timestamptz
    language sql stable
    as $$ select now() + make_interval(secs => (select offset_seconds from clock_offset)) $$;

-- Event times follow the same clock, so a story told through the clock (the demo, a journey test)
-- never records an event after the step it precedes.
do $$
declare c record;
begin
    for c in select table_name, column_name from information_schema.columns
              where table_schema = 'public' and column_default = 'now()'
                and table_name <> 'schema_migrations'
    loop
        execute format('alter table %I alter column %I set default market_now()', c.table_name, c.column_name);
    end loop;
end $$;
