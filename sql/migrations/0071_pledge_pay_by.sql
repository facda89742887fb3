-- A pledge is paid by a date (MARKET_PLEDGE_PAY_DAYS after it was made, or after its need became a
-- project), or it lapses: on a generated city a third of all pledges had never been paid, some for two
-- years, and each still counted as money its project had. The funder is reminded a week before, once
-- (pay_reminded_on, which the reminder claims). A pledge whose payment is waiting to be confirmed does
-- not lapse; one whose transfer was sent back, or whose checkout expired, does.
alter table pledges add column pay_by date, add column pay_reminded_on date;
-- Pledges made before there was a date have the default's 30 days from now: none lapses unwarned.
update pledges set pay_by = current_date + 30
 where status in ('pledged', 'awaiting_payment') and (target_type <> 'need' or project_id is not null);
create index pledges_unpaid on pledges (pay_by) where status in ('pledged', 'awaiting_payment');
-- A need's pledges wait for it to become a project before their date starts.
create index pledges_need_payable on pledges (need_id) where status = 'pledged' and pay_by is null;
