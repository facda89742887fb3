-- What waits for someone, one statement per kind of item, whatever the number of rows: each
-- returns at most :limit items, oldest date first, and in `total` how many there are in all.
-- Every row has the same columns (see market.dashboard.services.Task); `at` is a moment, `due_date`
-- a day (a milestone's), `batch` the review batch an item is about.

-- name: buyer_area$
select jurisdiction_id from organisations where id = :org;

-- name: needs_to_decide
-- The open needs of every community in the buyer's area (its jurisdiction and all below it).
with recursive area as (
    select :area::int as id
    union all
    select j.id from jurisdictions j join area on j.parent_id = area.id
)
select n.title as title_zh, '' as title_en, n.created_at as at, null::date as due_date, '/needs/' || n.id as link,
       n.urgency as state, null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from needs n
 where n.status = 'open' and n.community_id in (select id from area)
 order by n.created_at, n.id
 limit :limit;

-- name: calls_to_publish
select c.title_zh, c.title_en, c.created_at as at, null::date as due_date, '/calls/' || c.id as link,
       null::text as state, null::int as batch, c.budget_ceiling_fen as amount_fen, '' as detail,
       count(*) over () as total
  from calls c
 where c.buyer_id = :org and c.published_at is null and c.cancelled_at is null and c.failed_at is null
 order by c.created_at, c.id
 limit :limit;

-- name: questions_to_answer
select c.title_zh, c.title_en, q.asked_at as at, null::date as due_date, '/calls/' || c.id || '#questions' as link,
       null::text as state, null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from call_questions q join calls c on c.id = q.call_id
 where c.buyer_id = :org and q.answer is null and c.cancelled_at is null and c.failed_at is null
 order by q.asked_at, q.id
 limit :limit;

-- name: panels_to_form
-- Calls past their deadline with no panel yet (form it, or declare the call failed), and panels of
-- calls or review batches still being formed (add members and the chair, then start scoring).
select * , count(*) over () as total from (
    select c.title_zh, c.title_en, c.deadline_at as at, null::date as due_date,
           coalesce('/panels/' || p.id, '/calls/' || c.id) as link,
           case when p.id is null then 'no_panel' else 'forming' end as state, null::int as batch,
           null::bigint as amount_fen, '' as detail
      from calls c left join panels p on p.subject_type = 'call' and p.subject_id = c.id
     where c.buyer_id = :org and c.published_at is not null and c.cancelled_at is null and c.failed_at is null
       and c.deadline_at <= :now and c.awarded_at is null and (p.id is null or p.status = 'forming')
    union all
    select c.title_zh, c.title_en, b.cut_off_at, null, '/panels/' || p.id, 'forming', b.number, null, ''
      from panels p join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
      join calls c on c.id = b.call_id
     where p.owner_id = :org and p.status = 'forming' and b.decided_at is null and c.cancelled_at is null
) x
 order by at, link
 limit :limit;

-- name: awards_to_make
-- Panels whose chair has recorded every consensus score (the price needs none) while the call is
-- still closed, or the review batch still under review: the buyer awards, or decides the batch.
select *, count(*) over () as total from (
    select coalesce(c.title_zh, bc.title_zh) as title_zh, coalesce(c.title_en, bc.title_en) as title_en,
           coalesce((select max(s.recorded_at) from panel_consensus s where s.panel_id = p.id), p.created_at) as at,
           null::date as due_date,
           case when p.subject_type = 'call' then '/calls/' || c.id
                else '/calls/' || bc.id || '/batches/' || b.number end as link,
           null::text as state, b.number as batch, null::bigint as amount_fen, '' as detail
      from panels p
      left join calls c on p.subject_type = 'call' and c.id = p.subject_id
      left join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
      left join calls bc on bc.id = b.call_id
     where p.owner_id = :org and p.status = 'scoring'
       and ((p.subject_type = 'call' and c.awarded_at is null and c.failed_at is null and c.cancelled_at is null)
            or (p.subject_type = 'batch' and b.decided_at is null and bc.cancelled_at is null))
       and not exists (select 1 from panel_candidates k join panel_criteria r on r.panel_id = k.panel_id
                        where k.panel_id = p.id and not r.is_price
                          and not exists (select 1 from panel_consensus s where s.panel_id = p.id
                                          and s.candidate_id = k.candidate_id and s.position = r.position))
) x
 order by at, link
 limit :limit;

-- name: objections_to_answer
select c.title_zh, c.title_en, x.raised_at as at, null::date as due_date,
       case when x.batch_id is null then '/calls/' || c.id || '#award'
            else '/calls/' || c.id || '/batches/' || b.number || '#objections' end as link,
       null::text as state, b.number as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from objections x
  left join awards a on a.id = x.award_id
  left join call_batches b on b.id = x.batch_id
  join calls c on c.id = coalesce(a.call_id, b.call_id)
 where c.buyer_id = :org and x.status = 'pending'
 order by x.raised_at, x.id
 limit :limit;

-- name: contracts_to_prepare
-- Standing awards whose notice has ended, with no contract and no objection left to answer.
select c.title_zh, c.title_en, a.notice_ends_at as at, null::date as due_date,
       case when a.batch_id is null then '/calls/' || c.id else '/calls/' || c.id || '/batches/' || b.number end
           as link,
       null::text as state, b.number as batch, a.amount_fen, o.name_zh as detail, count(*) over () as total
  from awards a
  join calls c on c.id = a.call_id
  join bids bd on bd.id = a.bid_id
  join organisations o on o.id = bd.provider_id
  left join call_batches b on b.id = a.batch_id
 where c.buyer_id = :org and a.reopened_at is null and a.notice_ends_at <= :now and c.cancelled_at is null
   and not exists (select 1 from contracts k where k.award_id = a.id)
   and not exists (select 1 from objections x where x.status = 'pending'
                    and (x.award_id = a.id or (a.batch_id is not null and x.batch_id = a.batch_id)))
 order by a.notice_ends_at, a.id
 limit :limit;

-- name: contracts_to_sign
-- Contracts of the organisation on :party's side ('buyer' or 'provider') that its side has not signed.
select c.title_zh, c.title_en, k.created_at as at, null::date as due_date, '/contracts/' || k.id as link,
       k.status as state, null::int as batch, k.amount_fen, '' as detail, count(*) over () as total
  from contracts k join calls c on c.id = k.call_id
 where ((:party = 'buyer' and k.buyer_id = :org) or (:party = 'provider' and k.provider_id = :org))
   and k.status <> 'signed' and k.status <> :party || '_signed'
 order by k.created_at, k.id
 limit :limit;

-- name: milestones_due
-- Milestones of signed contracts not yet accepted and due by :horizon (overdue ones first). The
-- buyer accepts them in their order, so it sees each contract's next one only.
select c.title_zh, c.title_en, null::timestamptz as at, m.due_date, '/contracts/' || k.id || '#milestones' as link,
       m.kind as state, null::int as batch, null::bigint as amount_fen, m.title as detail,
       count(*) over () as total
  from contract_milestones m join contracts k on k.id = m.contract_id join calls c on c.id = k.call_id
 where ((:party = 'buyer' and k.buyer_id = :org) or (:party = 'provider' and k.provider_id = :org))
   and k.status = 'signed' and m.accepted_at is null and m.due_date <= :horizon
   and (:party = 'provider' or m.position = (select min(n.position) from contract_milestones n
                                              where n.contract_id = k.id and n.accepted_at is null))
 order by m.due_date, k.id, m.position
 limit :limit;

-- name: transfers_to_confirm
-- Bank transfers recorded to the organisation, as a project's buyer or a fund's owner.
select coalesce(pr.title_zh, f.name_zh) as title_zh, coalesce(nullif(pr.title_en, ''), f.name_en, '') as title_en,
       y.recorded_at as at, null::date as due_date, '/payments' as link, null::text as state, null::int as batch,
       y.amount_fen, o.name_zh as detail, count(*) over () as total
  from payments y
  join pledges p on p.id = y.pledge_id
  join organisations o on o.id = p.funder_id
  left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id
 where y.status = 'pending' and y.method = 'offline' and coalesce(f.owner_id, pr.buyer_id) = :org
 order by y.recorded_at, y.id
 limit :limit;

-- name: calls_to_bid
-- Open calls the provider may bid on and has not: the same rules as bids.rule_breaches (type,
-- rating, full years since registration, registered in the project's district unless the call is
-- open to any district), and no open bid of its own.
with recursive up as (
    select j.id, j.parent_id, j.level from jurisdictions j join organisations o on o.jurisdiction_id = j.id
     where o.id = :org
    union all
    select j.id, j.parent_id, j.level from jurisdictions j join up on j.id = up.parent_id
), home as (
    select id from up where level = 'district'
    union all
    select j.id from jurisdictions j join home on j.parent_id = home.id
)
select c.title_zh, c.title_en, c.deadline_at as at, null::date as due_date, '/calls/' || c.id as link,
       c.procedure_type as state, null::int as batch, c.budget_ceiling_fen as amount_fen, '' as detail,
       count(*) over () as total
  from calls c join projects p on p.id = c.project_id, organisations o
 where o.id = :org and c.published_at is not null and c.cancelled_at is null and c.failed_at is null
   and (c.deadline_at is null or c.deadline_at > :now)
   and o.subtype = any(c.provider_types)
   and (c.min_rating is null or coalesce(o.rating, 0) >= c.min_rating)
   and (coalesce(c.min_years, 0) = 0 or o.registration_date is null
        or date_part('year', age(:today::date, o.registration_date)) >= c.min_years)
   and (c.cross_district or p.jurisdiction_id in (select id from home))
   and not exists (select 1 from bids b where b.call_id = c.id and b.provider_id = :org and b.batch_id is null)
 order by c.deadline_at nulls last, c.published_at, c.id
 limit :limit;

-- name: questions_answered
-- The provider's questions answered on calls still open: the answer may change its bid.
select c.title_zh, c.title_en, q.answered_at as at, null::date as due_date, '/calls/' || c.id || '#questions' as link,
       null::text as state, null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from call_questions q join calls c on c.id = q.call_id
 where q.asked_for = :org and q.answer is not null and c.cancelled_at is null and c.failed_at is null
   and (c.deadline_at is null or c.deadline_at > :now)
 order by q.answered_at, q.id
 limit :limit;

-- name: bids_and_outcomes
-- The provider's bids, latest first, each with its outcome: awarded (a standing award is on it),
-- not awarded (another bid's award stands, the batch was decided without it, the call failed or
-- was cancelled), withdrawn, or pending.
select c.title_zh, c.title_en, b.submitted_at as at, null::date as due_date,
       case when b.batch_id is null then '/calls/' || c.id || '#bid'
            else '/calls/' || c.id || '/batches/' || bt.number end as link,
       case when b.status = 'withdrawn' then 'withdrawn'
            when exists (select 1 from awards a where a.bid_id = b.id and a.reopened_at is null) then 'awarded'
            when c.cancelled_at is not null or c.failed_at is not null then 'not_awarded'
            when b.batch_id is not null then case when bt.decided_at is null then 'pending' else 'not_awarded' end
            when exists (select 1 from awards a where a.call_id = c.id and a.batch_id is null
                          and a.reopened_at is null) then 'not_awarded'
            else 'pending' end as state,
       bt.number as batch, b.amount_fen, '' as detail, count(*) over () as total
  from bids b join calls c on c.id = b.call_id left join call_batches bt on bt.id = b.batch_id
 where b.provider_id = :org
 order by b.submitted_at desc, b.id desc
 limit :limit;

-- name: pledges_to_pay
-- Pledges the funder has still to pay: promised, or awaiting a payment with none pending (a
-- rejected transfer), and payable (a need's pledge once the need is a project).
select coalesce(pr.title_zh, f.name_zh, n.title) as title_zh,
       coalesce(nullif(pr.title_en, ''), f.name_en, '') as title_en, p.created_at as at, null::date as due_date,
       '/pledges/' || p.id as link, p.status as state, null::int as batch, p.amount_fen, '' as detail,
       count(*) over () as total
  from pledges p
  left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id
  left join needs n on n.id = p.need_id
 where p.funder_id = :org and p.status in ('pledged', 'awaiting_payment')
   and not exists (select 1 from payments y where y.pledge_id = p.id and y.status = 'pending')
   and (p.target_type <> 'need' or exists (select 1 from project_needs pn where pn.need_id = p.need_id))
 order by p.created_at, p.id
 limit :limit;

-- name: fairs_to_join
-- Fairs open for registration or live; a registered funder raises its paddle on the day.
select f.title_zh, f.title_en, f.starts_at as at, null::date as due_date,
       case when f.status = 'live' and r.funder_id is not null then '/fairs/' || f.id || '/paddle'
            else '/fairs/' || f.id end as link,
       case when f.status = 'live' then 'live' when r.funder_id is not null then 'registered' else 'open' end
           as state,
       null::int as batch, null::bigint as amount_fen, f.place as detail, count(*) over () as total
  from fairs f left join fair_funders r on r.fair_id = f.id and r.funder_id = :org
 where f.status in ('open', 'live')
 order by f.starts_at, f.id
 limit :limit;

-- name: panels_to_score
-- Scoring panels the user sits on with something left for them: candidates to declare a conflict
-- of interest on, criteria to score (candidates declared free of conflict, not of their own
-- organisation), and for the chair, consensus scores every eligible member has scored.
select *, count(*) over () as total from (
    select coalesce(c.title_zh, bc.title_zh, kc.title_zh) as title_zh,
           coalesce(c.title_en, bc.title_en, kc.title_en) as title_en, p.created_at as at, null::date as due_date,
           '/panels/' || p.id as link, m.role as state, b.number as batch, null::bigint as amount_fen,
           '' as detail,
           (select count(*) from panel_candidates k
             where k.panel_id = p.id
               and not exists (select 1 from panel_declarations d where d.panel_id = p.id and d.user_id = m.user_id
                               and d.candidate_id = k.candidate_id))::int as to_declare,
           (select count(*) from panel_candidates k
              join panel_declarations d on d.panel_id = k.panel_id and d.user_id = m.user_id
                                       and d.candidate_id = k.candidate_id and not d.conflicted
              join panel_criteria r on r.panel_id = k.panel_id and not r.is_price
             where k.panel_id = p.id
               and not exists (select 1 from memberships ms where ms.user_id = m.user_id
                               and ms.organisation_id = k.organisation_id)
               and not exists (select 1 from panel_scores s where s.panel_id = p.id and s.user_id = m.user_id
                               and s.candidate_id = k.candidate_id and s.position = r.position))::int as to_score,
           case when m.role <> 'chair' then 0 else
           (select count(*) from panel_candidates k join panel_criteria r on r.panel_id = k.panel_id and not r.is_price
             where k.panel_id = p.id
               and not exists (select 1 from panel_consensus s where s.panel_id = p.id
                               and s.candidate_id = k.candidate_id and s.position = r.position)
               and not exists (select 1 from panel_members pm where pm.panel_id = p.id
                                 and not exists (select 1 from panel_declarations d where d.panel_id = p.id
                                                 and d.user_id = pm.user_id and d.candidate_id = k.candidate_id
                                                 and d.conflicted)
                                 and not exists (select 1 from panel_scores s where s.panel_id = p.id
                                                 and s.user_id = pm.user_id and s.candidate_id = k.candidate_id
                                                 and s.position = r.position)))::int end as to_consensus
      from panel_members m
      join panels p on p.id = m.panel_id
      left join calls c on p.subject_type = 'call' and c.id = p.subject_id
      left join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
      left join calls bc on bc.id = b.call_id
      left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
      left join calls kc on kc.id = k.call_id
     where m.user_id = :user and p.status = 'scoring'
) x
 where to_declare + to_score + to_consensus > 0
 order by at, link
 limit :limit;

-- name: organisations_to_verify
select name_zh as title_zh, name_en as title_en, created_at as at, null::date as due_date,
       '/organisations/' || id as link, subtype as state, null::int as batch, null::bigint as amount_fen,
       '' as detail, count(*) over () as total
  from organisations
 where status = 'pending'
 order by created_at, id
 limit :limit;

-- name: needs_raised
select n.title as title_zh, '' as title_en, n.created_at as at, null::date as due_date, '/needs/' || n.id as link,
       n.status as state, null::int as batch, null::bigint as amount_fen, '' as detail, n.supporters,
       count(*) over () as total
  from needs n
 where n.raised_by = :user
 order by n.created_at desc, n.id desc
 limit :limit;
