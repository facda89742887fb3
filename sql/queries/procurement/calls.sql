-- name: procedure_types
select * from procedure_types order by position;

-- name: procedure_type^
select * from procedure_types where code = :code;

-- name: insert_call$
insert into calls (project_id, buyer_id, procedure_type, title_zh, title_en, description, catalogue_entry_id,
                   budget_ceiling_fen, service_start, service_end, service_place, provider_types, min_rating,
                   min_years, cross_district, justification, deadline_at, created_by)
values (:project_id, :buyer_id, :procedure_type, :title_zh, :title_en, :description, :catalogue_entry_id,
        :budget_ceiling_fen, :service_start, :service_end, :service_place, :provider_types, :min_rating,
        :min_years, :cross_district, :justification, :deadline_at, :created_by)
returning id;

-- name: update_call!
update calls
   set procedure_type = :procedure_type, title_zh = :title_zh, title_en = :title_en, description = :description,
       budget_ceiling_fen = :budget_ceiling_fen, service_start = :service_start, service_end = :service_end,
       service_place = :service_place, provider_types = :provider_types, min_rating = :min_rating,
       min_years = :min_years, cross_district = :cross_district, justification = :justification,
       deadline_at = :deadline_at, questions_close_at = :questions_close_at, revision = :revision
 where id = :id;

-- name: call^
select * from calls where id = :id;

-- name: call_for_update^
select * from calls where id = :id for update;

-- name: delete_criteria!
delete from call_criteria where call_id = :call_id;

-- name: insert_criteria*!
insert into call_criteria (call_id, position, name_zh, name_en, weight, min_score, is_price)
values (:call_id, :position, :name_zh, :name_en, :weight, :min_score, :is_price);

-- name: criteria
select position, name_zh, name_en, weight, min_score, is_price from call_criteria where call_id = :call_id
 order by position;

-- name: publish!
update calls set published_at = :now, questions_close_at = :questions_close_at, deadline_at = :deadline_at
 where id = :id and published_at is null;

-- name: cancel!
update calls set cancelled_at = market_now(), cancel_reason = :reason where id = :id;

-- name: insert_revision!
insert into call_revisions (call_id, revision, changed_by, changes, deadline_moved_to)
values (:call_id, :revision, :changed_by, :changes, :deadline_moved_to);

-- name: revisions
select revision, changed_at, changes, deadline_moved_to from call_revisions where call_id = :call_id
 order by revision;

-- name: list_calls
select c.* from calls c
  join projects p on p.id = c.project_id
 where c.published_at is not null
   and (:places::int[] is null or p.jurisdiction_id = any(:places))
   and (:procedure::text is null or c.procedure_type = :procedure)
 order by c.published_at desc
 limit :limit offset :offset;

-- name: calls_of_buyer
select * from calls where buyer_id = :buyer_id order by created_at desc;
