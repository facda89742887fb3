-- What was paid for a milestone, or for a contract, is read by contract (the contract's page, its
-- ending, the funder's dashboard, the buyer scorecards' payment timeliness), and nothing served it:
-- each read scanned every disbursement. On the city the scorecards' payment timeliness looked up
-- each of 16,000 payment milestones so, 4.6 s for the index of every district.
create index disbursements_milestone on disbursements (contract_id, position);
