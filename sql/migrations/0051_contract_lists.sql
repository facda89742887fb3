-- My contracts (我的合同): each organisation's contracts as buyer and as provider, newest first
-- (market/delivery/listing.py), read from an index on the organisation's own column and the sort key.
create index contracts_buyer_list_idx on contracts (buyer_id, created_at, id);
create index contracts_provider_list_idx on contracts (provider_id, created_at, id);
