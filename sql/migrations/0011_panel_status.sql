-- A panel's life cycle as a status: forming (members are added) → scoring (declarations, scores,
-- consensus) → closed (an award stands on its scores) → scoring again if an objection is upheld.
alter table panels add column status text not null default 'forming'
    check (status in ('forming', 'scoring', 'closed'));
update panels set status = case when closed_at is not null then 'closed' else 'scoring' end;
