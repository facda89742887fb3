-- A payment milestone may wait for an evaluation of delivery (the standard contract: 30 % after a
-- passed mid-term, 30 % after a passed final); acceptance is refused until that evaluation passed.
alter table contract_milestones
    add column waits_for text not null default 'none' check (waits_for in ('none', 'midterm', 'final')),
    add constraint milestone_waits_only_to_pay check (waits_for = 'none' or kind = 'payment');

-- Contracts made from the standard template before this column existed.
update contract_milestones set waits_for = 'midterm' where kind = 'payment' and title like '%中期评估%';
update contract_milestones set waits_for = 'final' where kind = 'payment' and title like '%末期评估%';
