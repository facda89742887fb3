-- The published complaint figures (market/complaints: closure, on-time and satisfaction rates per
-- organisation responsible) from counts kept as complaints change, per year of lodging and over every
-- year, so the public page reads one index. They grouped every complaint of the city at every request.

-- The days that decide a complaint's year and whether it was answered in time, where the deployment is
-- (MARKET_TIMEZONE): the services write them, as they write the deadlines. Complaints lodged before
-- this migration take them in the default zone.
alter table complaints add column lodged_on date, add column answered_on date;
update complaints set lodged_on = (lodged_at at time zone 'Asia/Shanghai')::date,
                      answered_on = (answered_at at time zone 'Asia/Shanghai')::date;
alter table complaints alter column lodged_on set not null,
    add check ((answered_on is null) = (answered_at is null));

create table complaint_figures (
    organisation_id bigint not null references organisations (id),
    year            smallint not null check (year = 0 or year between 2000 and 2999),  -- 0: every year
    lodged          integer not null default 0,
    closed          integer not null default 0,
    answered        integer not null default 0,
    on_time         integer not null default 0,  -- answered on or before the day the answer was due
    close_seconds   bigint not null default 0,   -- from lodging to closing, summed over those closed
    rated           integer not null default 0,
    satisfied       integer not null default 0,  -- rated 4 or 5
    primary key (organisation_id, year)
);
-- The figures page: a year's organisations, busiest first.
create index complaint_figures_busiest on complaint_figures (year, lodged desc, organisation_id desc);

-- One complaint's part in its organisation's figures for its year and for every year, added (sign 1)
-- or taken away (−1). The two rows in the same order every time: a transaction changes one complaint.
create function complaint_figures_count(c complaints, sign integer) returns void language sql as $$
    insert into complaint_figures as f (organisation_id, year, lodged, closed, answered, on_time, close_seconds,
                                        rated, satisfied)
    select c.responsible_id, y, sign, sign * (c.status = 'closed')::int, sign * (c.answered_on is not null)::int,
           sign * coalesce(c.answered_on <= c.answer_by, false)::int,
           sign * case when c.status = 'closed' then extract(epoch from c.closed_at - c.lodged_at)::bigint else 0 end,
           sign * (c.rating is not null)::int, sign * coalesce(c.rating >= 4, false)::int
      from unnest(array[extract(year from c.lodged_on)::smallint, 0::smallint]) y
        on conflict (organisation_id, year) do update
       set lodged = f.lodged + excluded.lodged, closed = f.closed + excluded.closed,
           answered = f.answered + excluded.answered, on_time = f.on_time + excluded.on_time,
           close_seconds = f.close_seconds + excluded.close_seconds, rated = f.rated + excluded.rated,
           satisfied = f.satisfied + excluded.satisfied
$$;

create function complaint_figures_kept() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' then
        perform complaint_figures_count(old, -1);
    end if;
    perform complaint_figures_count(new, 1);
    return null;
end $$;

create trigger complaint_figures_lodged after insert on complaints
    for each row execute function complaint_figures_kept();
create trigger complaint_figures_changed after update on complaints
    for each row when ((old.responsible_id, old.lodged_on, old.status, old.answered_on, old.closed_at, old.rating)
                       is distinct from (new.responsible_id, new.lodged_on, new.status, new.answered_on,
                                         new.closed_at, new.rating))
    execute function complaint_figures_kept();

insert into complaint_figures (organisation_id, year, lodged, closed, answered, on_time, close_seconds, rated,
                               satisfied)
select responsible_id, coalesce(extract(year from lodged_on)::smallint, 0), count(*),
       count(*) filter (where status = 'closed'), count(answered_on),
       count(*) filter (where answered_on <= answer_by),
       coalesce(sum(extract(epoch from closed_at - lodged_at)::bigint) filter (where status = 'closed'), 0),
       count(rating), count(*) filter (where rating >= 4)
  from complaints group by responsible_id, grouping sets ((extract(year from lodged_on)), ());
