-- name: insert_question$
insert into call_questions (call_id, asked_by, asked_for, question) values (:call_id, :asked_by, :asked_for, :question)
returning id;

-- name: questions
select q.*, o.name_zh as asker_name_zh from call_questions q join organisations o on o.id = q.asked_for
 where q.call_id = :call_id order by q.id;

-- name: question_for_update^
select * from call_questions where id = :id for update;

-- name: answer!
update call_questions set answer = :answer, answered_by = :answered_by, answered_at = market_now() where id = :id;
