-- name: last_hash$
select hash from audit_events order by id desc limit 1;

-- name: append!
insert into audit_events (at, actor_user_id, organisation_id, verb, object_type, object_id, diff, prev_hash, hash)
values (:at, :actor, :organisation, :verb, :object_type, :object_id, :diff, :prev_hash, :hash);

-- name: for_organisation
select * from audit_events where organisation_id = :organisation order by id desc limit :limit;

-- name: recent
select * from audit_events order by id desc limit :limit;
