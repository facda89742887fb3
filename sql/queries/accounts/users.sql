-- name: insert_user$
insert into users (email, display_name, password_hash, community_id, locale)
values (:email, :display_name, :password_hash, :community_id, :locale)
on conflict (email) do nothing
returning id;

-- name: user_by_email^
select * from users where email = :email;

-- name: user_by_id^
select * from users where id = :id;

-- name: record_failure^
update users
   set failed_logins = case when failed_logins + 1 >= :max_failures then 0 else failed_logins + 1 end,
       locked_until = case when failed_logins + 1 >= :max_failures then market_now() + make_interval(mins => :lock_minutes)
                           else locked_until end
 where id = :id
returning failed_logins, locked_until;

-- name: record_success!
update users set failed_logins = 0, locked_until = null where id = :id;

-- name: user_for_login^
-- Locked for the rest of the log-in's transaction: parallel guesses at one account take turns, each
-- seeing the failures and the lock the one before it left.
select * from users where email = :email for update;

-- name: address_failures$
select count(*) from login_failures
 where address = :address and failed_at > market_now() - make_interval(mins => :minutes);

-- name: record_address_failure!
with expired as (
    delete from login_failures where failed_at < market_now() - make_interval(mins => :minutes)
)
insert into login_failures (address) values (:address);

-- name: set_password!
-- A new password ends every reset link still outstanding, whichever way it was set.
with spent as (
    update password_resets set used_at = market_now() where user_id = :id and used_at is null
)
update users set password_hash = :password_hash, password_changed_at = market_now(), failed_logins = 0, locked_until = null
 where id = :id;

-- name: set_locale!
update users set locale = :locale where id = :id;

-- name: insert_session!
insert into sessions (token_hash, user_id, organisation_id, expires_at)
values (:token_hash, :user_id, :organisation_id, market_now() + make_interval(hours => :hours));

-- name: delete_expired_sessions!
delete from sessions where expires_at < market_now();

-- name: identity_by_session^
select s.token_hash, u.id as user_id, u.email, u.display_name, u.locale, u.community_id,
       o.id as org_id, o.kind as org_kind, o.status as org_status, o.name_zh as org_name_zh,
       o.name_en as org_name_en, m.role
  from sessions s
  join users u on u.id = s.user_id and u.status = 'active'
  left join memberships m on m.user_id = s.user_id and m.organisation_id = s.organisation_id
  left join organisations o on o.id = m.organisation_id
 where s.token_hash = :token_hash and s.expires_at > market_now();

-- name: delete_session!
delete from sessions where token_hash = :token_hash;

-- name: delete_other_sessions!
delete from sessions where user_id = :user_id and token_hash <> :keep;

-- name: delete_user_sessions!
delete from sessions where user_id = :user_id;

-- name: set_session_organisation!
update sessions set organisation_id = :organisation_id where token_hash = :token_hash;

-- name: insert_reset!
insert into password_resets (token_hash, user_id, expires_at)
values (:token_hash, :user_id, market_now() + interval '1 hour');

-- name: take_reset$
update password_resets set used_at = market_now()
 where token_hash = :token_hash and used_at is null and expires_at > market_now()
returning user_id;
