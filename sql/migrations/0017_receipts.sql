-- Receipts (收据) for confirmed payments.
--
-- A receipt's number is given once, by the database, at the moment a payment becomes confirmed —
-- whoever confirms it (the receiver's finance staff, or Stripe) — and never changes. It reads
-- <year>-<serial>: the serial counts up from 1 within each calendar year, with no gaps, so a year's
-- receipts can be checked for a missing one the way a paper receipt book is. (A number derived from
-- the payment id would skip every pending, rejected or failed payment.) The year is China's
-- calendar year (Asia/Shanghai), fixed here rather than read from a setting so that no setting can
-- ever renumber a receipt already handed out.

create table receipt_counters (
    year        smallint primary key,
    last_serial integer not null check (last_serial > 0)
);

create table receipts (
    payment_id  bigint primary key references payments (id),
    year        smallint not null,
    serial      integer not null check (serial > 0),
    number      text not null generated always as
                (year::text || '-' || case when serial < 1000000 then lpad(serial::text, 6, '0') else serial::text end)
                stored unique,
    -- The day of confirmation in China: the receipt's date, and the year its number counts in.
    issued_on   date not null,
    unique (year, serial),
    check (extract(year from issued_on) = year)
);

-- SECURITY DEFINER: the application role cannot write receipts or counters itself, only confirm
-- payments. The counter row is locked by the upsert until the transaction ends, so two confirmations
-- never take the same serial, and a confirmation that rolls back gives its serial back.
create function payment_receipt() returns trigger language plpgsql security definer
    set search_path = public as $$
declare
    day date := (new.decided_at at time zone 'Asia/Shanghai')::date;
    next_serial integer;
begin
    insert into receipt_counters as c (year, last_serial) values (extract(year from day), 1)
        on conflict (year) do update set last_serial = c.last_serial + 1
        returning last_serial into next_serial;
    insert into receipts (payment_id, year, serial, issued_on)
        values (new.id, extract(year from day), next_serial, day);
    return null;
end $$;
create trigger payment_receipt_on_confirm after update of status on payments
    for each row when (new.status = 'confirmed' and old.status <> 'confirmed')
    execute function payment_receipt();
create trigger payment_receipt_on_insert after insert on payments
    for each row when (new.status = 'confirmed') execute function payment_receipt();

-- Payments confirmed before receipts existed get theirs now, in the order they were confirmed.
insert into receipts (payment_id, year, serial, issued_on)
select id, extract(year from day), row_number() over (partition by extract(year from day) order by decided_at, id), day
  from (select id, decided_at, (decided_at at time zone 'Asia/Shanghai')::date as day
          from payments where status = 'confirmed') confirmed;
insert into receipt_counters (year, last_serial) select year, max(serial) from receipts group by year;

revoke insert, update, delete, truncate on receipts, receipt_counters from market_app;
