-- The open data in bulk: every published call's compiled release in one gzipped OCDS release package,
-- made again once a day by whichever app process finds it due (market/opendata/bulk.py). A row is
-- written once its file is in the storage; the newest row is the file served.
create table opendata_exports (
    id              bigserial primary key,
    made_at         timestamptz not null default market_now(),
    releases        integer not null check (releases >= 0),
    bytes           bigint not null check (bytes > 0),
    sha256          text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key     text not null unique check (length(storage_key) between 1 and 300),
    -- the last change to the releases it holds: the package's publishedDate (none while nothing is published)
    published_date  timestamptz
);
create index opendata_exports_newest on opendata_exports (made_at desc, id desc);
