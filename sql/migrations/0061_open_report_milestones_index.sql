-- The report clock (every app process, every 30 s) looks for report milestones not yet accepted by
-- due date: the week ahead for reminders, the past for late and not filed ones. On the city it read
-- all 32,000 milestones for each of its three queries.
create index contract_milestones_open_reports on contract_milestones (due_date, contract_id, position)
    where kind = 'report' and accepted_at is null;
