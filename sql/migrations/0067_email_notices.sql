-- How a person wants their notices by email: each as it comes (as before), one digest a day, or none
-- (the inbox alone): a social organisation's staff are told of every call they may bid on, 9,300-9,700
-- a year for the busiest on the generated city. A notice waiting for its digest is 'digest', one never
-- to be emailed 'skipped', so the outbox (pending) holds only what goes out now.
alter table users add column email_notices text not null default 'each'
    check (email_notices in ('each', 'daily', 'none'));
alter table notifications drop constraint notifications_email_status_check,
    add constraint notifications_email_status_check
        check (email_status in ('pending', 'digest', 'skipped', 'sent', 'failed'));
create index notifications_digest on notifications (user_id, id) where email_status = 'digest';
