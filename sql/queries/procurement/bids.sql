-- name: bid_of_provider^
select * from bids where call_id = :call_id and provider_id = :provider_id and batch_id is null for update;

-- name: insert_bid$
insert into bids (call_id, provider_id, submitted_by, status, amount_fen, objectives, activities, team, indicators,
                  attachments, call_revision)
values (:call_id, :provider_id, :submitted_by, 'submitted', :amount_fen, :objectives, :activities, :team, :indicators,
        :attachments, :call_revision)
returning id;

-- name: replace_bid!
update bids
   set status = 'submitted', submitted_by = :submitted_by, amount_fen = :amount_fen, objectives = :objectives,
       activities = :activities, team = :team, indicators = :indicators, attachments = :attachments,
       call_revision = :call_revision, submitted_at = market_now(), withdrawn_at = null
 where id = :id;

-- name: withdraw_bid!
update bids set status = 'withdrawn', withdrawn_at = market_now() where id = :id;

-- name: confirm_bid!
update bids set call_revision = :call_revision where id = :id;

-- name: delete_lines!
delete from bid_budget_lines where bid_id = :bid_id;

-- name: insert_lines*!
insert into bid_budget_lines (bid_id, position, item, amount_fen) values (:bid_id, :position, :item, :amount_fen);

-- name: bids_of_call
select b.*, o.name_zh as provider_name_zh, o.name_en as provider_name_en from bids b
  join organisations o on o.id = b.provider_id
 where b.call_id = :call_id order by b.submitted_at, b.id;

-- name: lines
select position, item, amount_fen from bid_budget_lines where bid_id = :bid_id order by position;
