-- name: last_hash$
select hash from audit_events order by id desc limit 1;

-- name: append!
insert into audit_events (at, actor_user_id, organisation_id, verb, object_type, object_id, diff, prev_hash, hash)
values (:at, :actor, :organisation, :verb, :object_type, :object_id, :diff, :prev_hash, :hash);

-- name: for_organisation
select e.*, u.display_name as actor_name
  from audit_events e left join users u on u.id = e.actor_user_id
 where e.organisation_id = :organisation and e.verb <> all(:leave_out::text[])
 order by e.id desc limit :limit;

-- name: recent
select e.*, u.display_name as actor_name
  from audit_events e left join users u on u.id = e.actor_user_id
 order by e.id desc limit :limit offset :offset;

-- name: count_events$
select count(*) from audit_events;
