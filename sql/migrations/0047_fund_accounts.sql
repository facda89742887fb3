-- The funds list names each fund's balance: its ledger account found by index, not by reading every
-- account of every organisation (`market bench api --check` saw that scan on the generated city).
create index ledger_accounts_fund on ledger_accounts (fund_id) where kind = 'fund';
