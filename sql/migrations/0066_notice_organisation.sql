-- A notice sent to an organisation's people names that organisation: someone who works for several
-- is asked to switch to it before the notice opens, rather than being refused by the page it links
-- to. Notices to a person as themselves (a resident, the asker of a question) have none, as do
-- those written before this.
alter table notifications add column organisation_id bigint references organisations (id);
