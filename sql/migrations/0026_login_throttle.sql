-- Failed log-ins per client address, so one address cannot guess at (or lock) account after account.
create table login_failures (
    address   text not null,
    failed_at timestamptz not null default market_now()
);
create index login_failures_address on login_failures (address, failed_at);
create index login_failures_age on login_failures (failed_at);
