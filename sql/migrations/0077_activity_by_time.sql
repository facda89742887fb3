-- An organisation's recent activity is told newest first by the moment of each event. The moments
-- follow the chain's order in the running product, but not where a story was told on a moved clock
-- (the demo's months of history, a backfill): the feed sorts by the moment, from this index.
create index audit_events_organisation_at on audit_events (organisation_id, at desc, id desc);
