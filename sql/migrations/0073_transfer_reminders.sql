-- A bank transfer its receiver has not confirmed or sent back within days: its finance staff are
-- reminded once (reminded_on, which the reminder claims), as the funder's pledge waits on them and no
-- longer lapses (0071).
alter table payments add column reminded_on date;
