"""The accounts' SQL: users, log-in failures, sessions, password resets and memberships."""

INSERT_USER = """
insert into users (email, display_name, password_hash, community_id, locale) values ($1, $2, $3, $4, $5)
on conflict (email) do nothing
returning id"""

USER_BY_EMAIL = "select * from users where email = $1"
USER_BY_ID = "select * from users where id = $1"

RECORD_FAILURE = """
update users
   set failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
       locked_until = case when failed_logins + 1 >= $2 then market_now() + make_interval(mins => $3)
                           else locked_until end
 where id = $1
returning failed_logins, locked_until"""

RECORD_SUCCESS = "update users set failed_logins = 0, locked_until = null where id = $1"

# Locked for the rest of the log-in's transaction: parallel guesses at one account take turns, each
# seeing the failures and the lock the one before it left.
USER_FOR_LOGIN = "select * from users where email = $1 for update"

ADDRESS_FAILURES = """
select count(*) from login_failures where address = $1 and failed_at > market_now() - make_interval(mins => $2)"""

RECORD_ADDRESS_FAILURE = """
with expired as (
    delete from login_failures where failed_at < market_now() - make_interval(mins => $2)
)
insert into login_failures (address) values ($1)"""

# A new password ends every reset link still outstanding, whichever way it was set.
SET_PASSWORD = """
with spent as (
    update password_resets set used_at = market_now() where user_id = $1 and used_at is null
)
update users set password_hash = $2, password_changed_at = market_now(), failed_logins = 0, locked_until = null
 where id = $1"""

SET_LOCALE = "update users set locale = $2 where id = $1"

INSERT_SESSION = """
insert into sessions (token_hash, user_id, organisation_id, expires_at)
values ($1, $2, $3, market_now() + make_interval(hours => $4))"""

DELETE_EXPIRED_SESSIONS = "delete from sessions where expires_at < market_now()"

IDENTITY_BY_SESSION = """
select s.token_hash, u.id as user_id, u.email, u.display_name, u.locale, u.community_id,
       o.id as org_id, o.kind as org_kind, o.status as org_status, o.name_zh as org_name_zh,
       o.name_en as org_name_en, m.role,
       (select count(*) from memberships a where a.user_id = s.user_id) as organisations
  from sessions s
  join users u on u.id = s.user_id and u.status = 'active'
  left join memberships m on m.user_id = s.user_id and m.organisation_id = s.organisation_id
  left join organisations o on o.id = m.organisation_id
 where s.token_hash = $1 and s.expires_at > market_now()"""

DELETE_SESSION = "delete from sessions where token_hash = $1"
DELETE_OTHER_SESSIONS = "delete from sessions where user_id = $1 and token_hash <> $2"
DELETE_USER_SESSIONS = "delete from sessions where user_id = $1"
SET_SESSION_ORGANISATION = "update sessions set organisation_id = $2 where token_hash = $1"

INSERT_RESET = """
insert into password_resets (token_hash, user_id, expires_at) values ($1, $2, market_now() + interval '1 hour')"""

TAKE_RESET = """
update password_resets set used_at = market_now()
 where token_hash = $1 and used_at is null and expires_at > market_now()
returning user_id"""

MEMBERSHIPS_OF = """
select m.organisation_id, o.name_zh, o.name_en, o.kind, o.status, m.role
  from memberships m join organisations o on o.id = m.organisation_id
 where m.user_id = $1
 order by o.name_zh"""

MEMBERSHIP = "select role from memberships where user_id = $1 and organisation_id = $2"
INSERT_MEMBERSHIP = "insert into memberships (user_id, organisation_id, role) values ($1, $2, $3)"

MEMBERS_OF = """
select u.id as user_id, u.display_name, u.email, m.role, m.created_at
  from memberships m join users u on u.id = m.user_id
 where m.organisation_id = $1
 order by m.created_at, u.id"""

DELETE_MEMBERSHIP = "delete from memberships where user_id = $1 and organisation_id = $2 returning role"
COUNT_ADMINS = "select count(*) from memberships where organisation_id = $1 and role = 'admin'"

INSERT_INVITATION = """
insert into invitations (organisation_id, email, role, token_hash, invited_by, expires_at)
values ($1, $2, $3, $4, $5, market_now() + make_interval(days => $6)) returning id"""

# Asking an address again: the link sent before stops working.
END_OPEN_INVITATION = """
update invitations set ended_at = market_now() where organisation_id = $1 and email = $2 and ended_at is null"""

OPEN_INVITATION = """
select i.id, i.organisation_id, o.name_zh, o.name_en, i.email, i.role, u.display_name as invited_by, i.expires_at
  from invitations i join organisations o on o.id = i.organisation_id join users u on u.id = i.invited_by
 where i.token_hash = $1 and i.ended_at is null and i.expires_at > market_now()"""

TAKE_INVITATION = """
update invitations set ended_at = market_now(), accepted_by = $2
 where token_hash = $1 and ended_at is null and expires_at > market_now()
returning id, organisation_id, role"""

OPEN_INVITATIONS_OF = """
select i.id, i.email, i.role, i.created_at, i.expires_at, u.display_name as invited_by
  from invitations i join users u on u.id = i.invited_by
 where i.organisation_id = $1 and i.ended_at is null and i.expires_at > market_now()
 order by i.created_at desc, i.id desc"""

WITHDRAW_INVITATION = """
update invitations set ended_at = market_now()
 where id = $1 and organisation_id = $2 and ended_at is null returning email"""

SET_DETAILS = "update users set display_name = $2, community_id = $3 where id = $1"
