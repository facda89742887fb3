-- A call's contracts (one per award, several for a call awarded in batches), reached from its call:
-- a resident's workbench reads the open surveys of the projects done near them (market.surveys,
-- `_NEAR`) through them, and scanned every contract for it.
create index contracts_of_a_call on contracts (call_id);
