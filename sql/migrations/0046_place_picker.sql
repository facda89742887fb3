-- The place picker asks for the places below one, a level at a time, and searches places by name
-- (Chinese or English, any part of it): both from indexes, never a read of the whole tree.
create extension if not exists pg_trgm;
create index jurisdictions_children on jurisdictions (parent_id, id);
create index jurisdictions_name_zh_trgm on jurisdictions using gin (name_zh gin_trgm_ops);
create index jurisdictions_name_en_trgm on jurisdictions using gin (lower(name_en) gin_trgm_ops);
