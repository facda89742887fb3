-- Mid-term and final evaluation on indicator systems: a contract keeps the versions in force when it
-- was signed; a delivery panel scores the leaves of one version; a stage failed without a panel is
-- one table, whichever rule failed it.

-- The indicator system versions the contract was signed under (none when no system was published).
alter table contracts add column midterm_system_id bigint references indicator_versions (id),
                      add column final_system_id bigint references indicator_versions (id);

-- A panel scoring a version's leaves: each criterion is a leaf, named by its path in the tree.
alter table panels add column indicator_version_id bigint references indicator_versions (id);
alter table panel_criteria add column indicator_path text check (indicator_path ~ '^[0-9]+(\.[0-9]+){0,2}$');

-- A report not filed by the end of the grace period fails its stage here too: one row per report
-- milestone (position), beside the failures no milestone names.
alter table contract_stage_failures drop constraint contract_stage_failures_stage_check,
    add constraint contract_stage_failures_stage_check check (stage in ('progress', 'midterm', 'final')),
    add column position smallint,
    add foreign key (contract_id, position) references contract_milestones (contract_id, position);
create unique index contract_stage_failures_one_per_report on contract_stage_failures (contract_id, position)
    where position is not null;
insert into contract_stage_failures (contract_id, stage, reason, at, position)
select contract_id, stage, 'The report was not filed by the end of the grace period.', recorded_at, position
  from report_failures;
drop table report_failures;

alter table contract_delivery alter column updated_at set default market_now();
