-- The deadline-reminder job every process runs every 30 s looks for the calls closing within 48 hours
-- and then for who asked about or bid on each: both from indexes, not a scan of every call and bid.
create index calls_live_by_deadline on calls (deadline_at) where published_at is not null and cancelled_at is null;
create index bids_by_call on bids (call_id);
