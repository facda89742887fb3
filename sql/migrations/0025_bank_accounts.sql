-- The account an organisation is paid into by bank transfer, shown to the funders who pay it.
alter table organisations
    add column bank_account_name text not null default '' check (length(bank_account_name) <= 200),
    add column bank_name text not null default '' check (length(bank_name) <= 200),
    add column bank_account_number text not null default '' check (length(bank_account_number) <= 40);
