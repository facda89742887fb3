-- The buyer scorecards are worked out from these tables alone (and the day: an unpaid milestone turns
-- late). Each app process keeps the cards it worked out while this count is the same, so every change
-- to any of them, from any process, moves it on: on the city, the card of every district took 0.2-4 s.
create sequence scorecard_inputs;
select nextval('scorecard_inputs');  -- from here on `last_value` moves with every change

create function scorecard_inputs_changed() returns trigger language plpgsql as $$
begin
    perform nextval('scorecard_inputs');
    return null;
end $$;

do $$
declare t text;
begin
    foreach t in array array['jurisdictions', 'organisations', 'buyer_ratings', 'contracts', 'contract_milestones',
                             'contract_delivery', 'contract_stage_failures', 'disbursements', 'surveys',
                             'survey_answers', 'survey_scores', 'rectification_items'] loop
        execute format('create trigger %I after insert or update or delete on %I '
                       'for each row execute function scorecard_inputs_changed()', t || '_scorecard_inputs', t);
    end loop;
end $$;
