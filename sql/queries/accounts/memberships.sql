-- name: memberships_of
select m.organisation_id, o.name_zh, o.name_en, o.kind, o.status, m.role
  from memberships m join organisations o on o.id = m.organisation_id
 where m.user_id = :user_id
 order by o.name_zh;

-- name: membership^
select role from memberships where user_id = :user_id and organisation_id = :organisation_id;

-- name: insert_membership!
insert into memberships (user_id, organisation_id, role) values (:user_id, :organisation_id, :role);

-- name: members_of
select u.id as user_id, u.display_name, u.email, m.role, m.created_at
  from memberships m join users u on u.id = m.user_id
 where m.organisation_id = :organisation_id
 order by m.created_at, u.id;

-- name: delete_membership$
delete from memberships where user_id = :user_id and organisation_id = :organisation_id returning role;

-- name: count_admins$
select count(*) from memberships where organisation_id = :organisation_id and role = 'admin';
