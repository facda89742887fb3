-- A person's unread notices from an index of their own: every page a signed-in person opens counts them
-- (the header's badge), and the inbox lists them alone when asked. From the index of all a person's
-- notices, that count read each one's row to see whether it was read: a social organisation's staff may
-- be told of 9,000 calls a year (0067), most of them read.
create index notifications_unread on notifications (user_id, id) where read_at is null;
