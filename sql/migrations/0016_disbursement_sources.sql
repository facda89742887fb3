-- Money a matching pool paid to a project has no pledge behind it: its share of a milestone payment
-- is recorded as such, not as pledge money without a pledge.
alter table disbursements drop constraint disbursements_source_check,
                          add constraint disbursements_source_check
                              check (source in ('pledges', 'matching', 'budget_line'));
