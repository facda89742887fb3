"""The dashboard's SQL. Each list of the workbench is one statement returning at most $1 (the limit)
items, oldest date first, and in `total` how many there are in all; every row has the same columns
(see market.dashboard.services.Task): `at` is a moment, `due_date` a day (a milestone's), `batch` the
review batch an item is about. The parameters after the limit are named beside each statement."""

from market.procurement.eligibility import district_of, may_bid

# $1 org
BUYER_AREA = """
select o.jurisdiction_id, j.level from organisations o join jurisdictions j on j.id = o.jurisdiction_id
 where o.id = $1"""

# The open needs of every community in the buyer's area (its jurisdiction and all below it). Each
# need carries its street and district (migration 0056), so one column says whether it lies in the
# area, and the partial indexes of migration 0064 hold the order: the page and the count are read
# from them alone, and only the page's needs themselves (a city district's bureau read its area's
# 1,400 places and all its 6,700 open needs, 12 ms). Needs sit at communities, so a grid's buyer has
# none. $1 limit, $2 area
_NEEDS_TO_DECIDE = """
select n.title as title_zh, '' as title_en, n.created_at as at, null::date as due_date, '/needs/' || n.id as link,
       n.urgency as state, null::int as batch, null::bigint as amount_fen, '' as detail, p.total
  from (select x.id, x.created_at, count(*) over () as total from needs x
         where x.status = 'open' and x.{column} = $2 order by x.created_at, x.id limit $1) p
  join needs n on n.id = p.id
 order by p.created_at, p.id"""
NEEDS_TO_DECIDE = {level: _NEEDS_TO_DECIDE.format(column=column) for level, column in (
    ("district", "district_id"), ("street", "street_id"), ("community", "community_id"), ("grid", "community_id"))}

# $1 limit, $2 org
CALLS_TO_PUBLISH = """
select c.title_zh, c.title_en, c.created_at as at, null::date as due_date, '/calls/' || c.id as link,
       null::text as state, null::int as batch, c.budget_ceiling_fen as amount_fen, '' as detail,
       count(*) over () as total
  from calls c
 where c.buyer_id = $2 and c.published_at is null and c.cancelled_at is null and c.failed_at is null
 order by c.created_at, c.id
 limit $1"""

# $1 limit, $2 org
QUESTIONS_TO_ANSWER = """
select c.title_zh, c.title_en, q.asked_at as at, null::date as due_date, '/calls/' || c.id || '#questions' as link,
       null::text as state, null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from call_questions q join calls c on c.id = q.call_id
 where c.buyer_id = $2 and q.answer is null and c.cancelled_at is null and c.failed_at is null
 order by q.asked_at, q.id
 limit $1"""

# Calls past their deadline with no panel yet (form it, or declare the call failed), and panels of
# calls or review batches still being formed (add members and the chair, then start scoring).
# $1 limit, $2 org, $3 now
PANELS_TO_FORM = """
select * , count(*) over () as total from (
    select c.title_zh, c.title_en, c.deadline_at as at, null::date as due_date,
           coalesce('/panels/' || p.id, '/calls/' || c.id) as link,
           case when p.id is null then 'no_panel' else 'forming' end as state, null::int as batch,
           null::bigint as amount_fen, '' as detail
      from calls c left join panels p on p.subject_type = 'call' and p.subject_id = c.id
     where c.buyer_id = $2 and c.published_at is not null and c.cancelled_at is null and c.failed_at is null
       and c.deadline_at <= $3 and c.awarded_at is null and (p.id is null or p.status = 'forming')
    union all
    select c.title_zh, c.title_en, b.cut_off_at, null, '/panels/' || p.id, 'forming', b.number, null, ''
      from panels p join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
      join calls c on c.id = b.call_id
     where p.owner_id = $2 and p.status = 'forming' and b.decided_at is null and c.cancelled_at is null
) x
 order by at, link
 limit $1"""

# Panels whose chair has recorded every consensus score (the price needs none) while the call is
# still closed, or the review batch still under review: the buyer awards, or decides the batch.
# $1 limit, $2 org
AWARDS_TO_MAKE = """
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
     where p.owner_id = $2 and p.status = 'scoring'
       and ((p.subject_type = 'call' and c.awarded_at is null and c.failed_at is null and c.cancelled_at is null)
            or (p.subject_type = 'batch' and b.decided_at is null and bc.cancelled_at is null))
       and not exists (select 1 from panel_candidates k join panel_criteria r on r.panel_id = k.panel_id
                        where k.panel_id = p.id and not r.is_price
                          and not exists (select 1 from panel_consensus s where s.panel_id = p.id
                                          and s.candidate_id = k.candidate_id and s.position = r.position))
) x
 order by at, link
 limit $1"""

# $1 limit, $2 org
OBJECTIONS_TO_ANSWER = """
select c.title_zh, c.title_en, x.raised_at as at, null::date as due_date,
       case when x.batch_id is null then '/calls/' || c.id || '#award'
            else '/calls/' || c.id || '/batches/' || b.number || '#objections' end as link,
       null::text as state, b.number as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from objections x
  left join awards a on a.id = x.award_id
  left join call_batches b on b.id = x.batch_id
  join calls c on c.id = coalesce(a.call_id, b.call_id)
 where c.buyer_id = $2 and x.status = 'pending'
 order by x.raised_at, x.id
 limit $1"""

# Standing awards whose notice has ended, with no contract and no objection left to answer.
# $1 limit, $2 org, $3 now
CONTRACTS_TO_PREPARE = """
select c.title_zh, c.title_en, a.notice_ends_at as at, null::date as due_date,
       case when a.batch_id is null then '/calls/' || c.id else '/calls/' || c.id || '/batches/' || b.number end
           as link,
       null::text as state, b.number as batch, a.amount_fen, o.name_zh as detail, o.name_en as detail_en, count(*) over () as total
  from awards a
  join calls c on c.id = a.call_id
  join bids bd on bd.id = a.bid_id
  join organisations o on o.id = bd.provider_id
  left join call_batches b on b.id = a.batch_id
 where c.buyer_id = $2 and a.reopened_at is null and a.notice_ends_at <= $3 and c.cancelled_at is null
   and not exists (select 1 from contracts k where k.award_id = a.id)
   and not exists (select 1 from objections x where x.status = 'pending'
                    and (x.award_id = a.id or (a.batch_id is not null and x.batch_id = a.batch_id)))
 order by a.notice_ends_at, a.id
 limit $1"""

# Contracts of the organisation on :party's side ('buyer' or 'provider') that its side has not signed.
# $1 limit, $2 org, $3 party
CONTRACTS_TO_SIGN = """
select c.title_zh, c.title_en, k.created_at as at, null::date as due_date, '/contracts/' || k.id as link,
       k.status as state, null::int as batch, k.amount_fen, '' as detail, count(*) over () as total
  from contracts k join calls c on c.id = k.call_id
 where (($3 = 'buyer' and k.buyer_id = $2) or ($3 = 'provider' and k.provider_id = $2))
   and k.status <> 'signed' and k.status <> $3 || '_signed'
 order by k.created_at, k.id
 limit $1"""

# Milestones of signed contracts not yet accepted and due by :horizon (overdue ones first). The
# buyer accepts them in their order, so it sees each contract's next one only: read contract by
# contract from the milestones' key, and the calls' titles for the page only (a city district's
# bureau hashed all 18,000 open milestones of the city to find its 800, then all 25,000 calls to
# name them: 10 ms). $1 limit, $2 org, $3 horizon
MILESTONES_DUE_BUYER = """
select c.title_zh, c.title_en, null::timestamptz as at, d.due_date, '/contracts/' || d.contract_id || '#milestones'
       as link, d.kind as state, null::int as batch, null::bigint as amount_fen, d.title as milestone, d.total
  from (select k.id as contract_id, k.call_id, m.due_date, m.kind, m.title, m.position, count(*) over () as total
          from contracts k
         cross join lateral (select n.due_date, n.kind, n.title, n.position from contract_milestones n
                              where n.contract_id = k.id and n.accepted_at is null order by n.position limit 1) m
         where k.buyer_id = $2 and k.status = 'signed' and m.due_date <= $3
         order by m.due_date, k.id, m.position
         limit $1) d
  join calls c on c.id = d.call_id
 order by d.due_date, d.contract_id, d.position"""

# The provider sees every one of its contracts' open milestones so due. $1 limit, $2 org, $3 horizon
MILESTONES_DUE_PROVIDER = """
select c.title_zh, c.title_en, null::timestamptz as at, m.due_date, '/contracts/' || k.id || '#milestones' as link,
       m.kind as state, null::int as batch, null::bigint as amount_fen, m.title as milestone,
       count(*) over () as total
  from contract_milestones m join contracts k on k.id = m.contract_id join calls c on c.id = k.call_id
 where k.provider_id = $2 and k.status = 'signed' and m.accepted_at is null and m.due_date <= $3
 order by m.due_date, k.id, m.position
 limit $1"""

# The provider's reports to file: due within the notice days (or overdue) and not submitted, or
# returned for correction. $1 limit, $2 org, $3 today, $4 the last due date shown
REPORTS_DUE = """
select c.title_zh, c.title_en, null::timestamptz as at, m.due_date,
       '/contracts/' || k.id || '/reports/' || m.position as link,
       case when r.status = 'returned' then 'returned' when m.due_date < $3 then 'overdue' else 'due' end as state,
       null::int as batch, null::bigint as amount_fen, m.title as milestone, count(*) over () as total
  from contract_milestones m join contracts k on k.id = m.contract_id join calls c on c.id = k.call_id
  left join delivery_reports r on r.contract_id = m.contract_id and r.position = m.position
 where k.provider_id = $2 and k.status = 'signed' and m.kind = 'report'
   and (r.status = 'returned' or (coalesce(r.status, 'draft') = 'draft' and m.accepted_at is null and m.due_date <= $4))
 order by m.due_date, k.id, m.position
 limit $1"""

# Reports submitted (or resubmitted) to the buyer, waiting for its review, the longest waiting first.
# $1 limit, $2 org
REPORTS_TO_REVIEW = """
select c.title_zh, c.title_en, v.submitted_at as at, null::date as due_date,
       '/contracts/' || k.id || '/reports/' || r.position as link, r.status as state, null::int as batch,
       null::bigint as amount_fen, m.title as milestone, count(*) over () as total
  from delivery_reports r join contracts k on k.id = r.contract_id join calls c on c.id = k.call_id
  join contract_milestones m on m.contract_id = r.contract_id and m.position = r.position
  join report_versions v on v.report_id = r.id
                        and v.version = (select max(x.version) from report_versions x where x.report_id = r.id)
 where k.buyer_id = $2 and r.status in ('submitted', 'resubmitted')
 order by v.submitted_at, r.id
 limit $1"""

# Bank transfers recorded to the organisation, as a project's buyer or a fund's owner.
# $1 limit, $2 org
TRANSFERS_TO_CONFIRM = """
select coalesce(pr.title_zh, f.name_zh) as title_zh, coalesce(nullif(pr.title_en, ''), f.name_en, '') as title_en,
       y.recorded_at as at, null::date as due_date, '/payments' as link, null::text as state, null::int as batch,
       y.amount_fen, o.name_zh as detail, o.name_en as detail_en, count(*) over () as total
  from payments y
  join pledges p on p.id = y.pledge_id
  join organisations o on o.id = p.funder_id
  left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id
 where y.status = 'pending' and y.method = 'offline' and coalesce(f.owner_id, pr.buyer_id) = $2
 order by y.recorded_at, y.id
 limit $1"""

# Open calls the provider may bid on and has not: the rules its bid form applies (eligibility.may_bid: type,
# rating, full years since registration, registered in the project's district unless the call is
# open to any district, no bar on the item), and no open bid of its own.
# $1 limit, $2 org, $3 now, $4 today
CALLS_TO_BID = district_of("""select j.id, j.parent_id, j.level from jurisdictions j
      join organisations o on o.jurisdiction_id = j.id where o.id = $2""") + f"""
select c.title_zh, c.title_en, c.deadline_at as at, null::date as due_date, '/calls/' || c.id as link,
       c.procedure_type as state, null::int as batch, c.budget_ceiling_fen as amount_fen, '' as detail,
       count(*) over () as total
  from calls c join projects p on p.id = c.project_id, organisations o
 where o.id = $2 and c.published_at is not null and c.cancelled_at is null and c.failed_at is null
   and (c.deadline_at is null or c.deadline_at > $3)
   and {may_bid("$4", "p.jurisdiction_id in (select id from home)")}
   and not exists (select 1 from bids b where b.call_id = c.id and b.provider_id = $2 and b.batch_id is null)
 order by c.deadline_at nulls last, c.published_at, c.id
 limit $1"""

# The provider's bids on open calls that changed after it bid: a bid not confirmed since is not
# evaluated (bids.confirm), so each stays here until confirmed, soonest deadline first.
# $1 limit, $2 org, $3 now
BIDS_TO_CONFIRM = """
select c.title_zh, c.title_en, c.deadline_at as at, null::date as due_date, '/calls/' || c.id || '#bid' as link,
       null::text as state, null::int as batch, b.amount_fen, '' as detail, count(*) over () as total
  from bids b join calls c on c.id = b.call_id
 where b.provider_id = $2 and b.status = 'submitted' and b.batch_id is null and b.call_revision < c.revision
   and c.cancelled_at is null and c.failed_at is null and (c.deadline_at is null or c.deadline_at > $3)
 order by c.deadline_at nulls last, c.id
 limit $1"""

# The provider's questions answered on calls still open: the answer may change its bid.
# $1 limit, $2 org, $3 now
QUESTIONS_ANSWERED = """
select c.title_zh, c.title_en, q.answered_at as at, null::date as due_date, '/calls/' || c.id || '#questions' as link,
       null::text as state, null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from call_questions q join calls c on c.id = q.call_id
 where q.asked_for = $2 and q.answer is not null and c.cancelled_at is null and c.failed_at is null
   and (c.deadline_at is null or c.deadline_at > $3)
 order by q.answered_at, q.id
 limit $1"""

# The provider's bids, latest first, each with its outcome: awarded (a standing award is on it),
# not awarded (another bid's award stands, the batch was decided without it, the call failed or
# was cancelled), withdrawn, or pending.
# $1 limit, $2 org
BIDS_AND_OUTCOMES = """
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
 where b.provider_id = $2
 order by b.submitted_at desc, b.id desc
 limit $1"""

# Pledges the funder has still to pay: promised, or awaiting a payment with none pending (a
# rejected transfer), and payable (a need's pledge once the need is a project).
# $1 limit, $2 org
PLEDGES_TO_PAY = """
select coalesce(pr.title_zh, f.name_zh, n.title) as title_zh,
       coalesce(nullif(pr.title_en, ''), f.name_en, '') as title_en, null::timestamptz as at, p.pay_by as due_date,
       '/pledges/' || p.id as link, p.status as state, null::int as batch, p.amount_fen, '' as detail,
       count(*) over () as total
  from pledges p
  left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id
  left join needs n on n.id = p.need_id
 where p.funder_id = $2 and p.status in ('pledged', 'awaiting_payment')
   and not exists (select 1 from payments y where y.pledge_id = p.id and y.status = 'pending')
   and (p.target_type <> 'need' or exists (select 1 from project_needs pn where pn.need_id = p.need_id))
 order by p.pay_by nulls last, p.id
 limit $1"""

# Fairs open for registration or live; a registered funder raises its paddle on the day.
# $1 limit, $2 org
FAIRS_TO_JOIN = """
select f.title_zh, f.title_en, f.starts_at as at, null::date as due_date,
       case when f.status = 'live' and r.funder_id is not null then '/fairs/' || f.id || '/paddle'
            else '/fairs/' || f.id end as link,
       case when f.status = 'live' then 'live' when r.funder_id is not null then 'registered' else 'open' end
           as state,
       null::int as batch, null::bigint as amount_fen, f.place as detail, count(*) over () as total
  from fairs f left join fair_funders r on r.fair_id = f.id and r.funder_id = $2
 where f.status in ('open', 'live')
 order by f.starts_at, f.id
 limit $1"""

# Scoring panels the user sits on with something left for them: candidates to declare a conflict
# of interest on, criteria to score (candidates declared free of conflict, not of their own
# organisation), and for the chair, consensus scores every eligible member has scored.
# $1 limit, $2 user
PANELS_TO_SCORE = """
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
                                                 and s.position = r.position)))::int end as to_consensus,
           -- A delivery panel's members hand in their scores as a whole.
           (p.subject_type in ('midterm', 'final') and m.submitted_at is null)::int as to_submit
      from panel_members m
      join panels p on p.id = m.panel_id
      left join calls c on p.subject_type = 'call' and c.id = p.subject_id
      left join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
      left join calls bc on bc.id = b.call_id
      left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
      left join calls kc on kc.id = k.call_id
     where m.user_id = $2 and p.status = 'scoring'
) x
 where to_declare + to_score + to_consensus + to_submit > 0
 order by at, link
 limit $1"""

# The agency's panels its experts are scoring and have not all submitted, with how many have still to:
# what its director chases. (Once all have, the panel waits for its owner, not for the agency.)
# $1 limit, $2 the agency
PANELS_BEING_SCORED = """
select coalesce(c.title_zh, kc.title_zh) as title_zh, coalesce(c.title_en, kc.title_en) as title_en,
       p.created_at as at, null::date as due_date, '/panels/' || p.id as link, p.subject_type as state,
       null::int as batch, null::bigint as amount_fen, o.name_zh as detail, o.name_en as detail_en,
       (select count(*) from panel_members m where m.panel_id = p.id and m.submitted_at is null)::int
         as experts_to_submit,
       count(*) over () as total
  from panels p join organisations o on o.id = p.owner_id
  left join calls c on p.subject_type = 'call' and c.id = p.subject_id
  left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
  left join calls kc on kc.id = k.call_id
 where p.agency_id = $2 and p.status = 'scoring'
   and exists (select from panel_members m where m.panel_id = p.id and m.submitted_at is null)
 order by p.created_at, p.id
 limit $1"""

# Panels handed to the reader's evaluation agency and still being formed: its staff seat experts.
# $1 limit, $2 the agency
PANELS_TO_STAFF = """
select coalesce(c.title_zh, kc.title_zh) as title_zh, coalesce(c.title_en, kc.title_en) as title_en,
       p.created_at as at, null::date as due_date, '/panels/' || p.id as link, p.subject_type as state,
       null::int as batch, null::bigint as amount_fen, o.name_zh as detail, o.name_en as detail_en, count(*) over () as total
  from panels p join organisations o on o.id = p.owner_id
  left join calls c on p.subject_type = 'call' and c.id = p.subject_id
  left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
  left join calls kc on kc.id = k.call_id
 where p.agency_id = $2 and p.status = 'forming'
 order by p.created_at, p.id
 limit $1"""

# Mid-term and final panels of the buyer whose chair has recorded every consensus score: the buyer
# decides the evaluation. $1 limit, $2 the buyer
ROUNDS_TO_DECIDE = """
select c.title_zh, c.title_en, p.created_at as at, null::date as due_date,
       '/contracts/' || k.id || '/evaluations/' || p.subject_type || '/decide' as link, p.subject_type as state,
       null::int as batch, null::bigint as amount_fen, '' as detail, count(*) over () as total
  from panels p join contracts k on k.id = p.subject_id join calls c on c.id = k.call_id
 where p.owner_id = $2 and p.subject_type in ('midterm', 'final') and p.status = 'scoring'
   and not exists (select from panel_candidates pc join panel_criteria r on r.panel_id = pc.panel_id and not r.is_price
                    where pc.panel_id = p.id
                      and not exists (select from panel_consensus s where s.panel_id = p.id
                                      and s.candidate_id = pc.candidate_id and s.position = r.position))
 order by p.created_at, p.id
 limit $1"""

ORGANISATIONS_TO_VERIFY = """
select name_zh as title_zh, name_en as title_en, created_at as at, null::date as due_date,
       '/organisations/' || id as link, subtype as state, null::int as batch, null::bigint as amount_fen,
       '' as detail, count(*) over () as total
  from organisations
 where status = 'pending'
 order by created_at, id
 limit $1"""

# $1 limit, $2 user
NEEDS_RAISED = """
select n.title as title_zh, '' as title_en, n.created_at as at, null::date as due_date, '/needs/' || n.id as link,
       n.status as state, null::int as batch, null::bigint as amount_fen, '' as detail, n.supporters,
       count(*) over () as total
  from needs n
 where n.raised_by = $2
 order by n.created_at desc, n.id desc
 limit $1"""

# The title of every object an activity feed names, by type and id, in one statement: a call's
# (for its bids, questions, panels, objections and contracts too), a project's, a need's, a
# pledge's or payment's target, an organisation's name, and so on; and the page it is read on where that is
# not the object's own (a report's is its contract's and position's).
# $1… are the ids of each type, in the order of OBJECT_TITLE_LISTS.
OBJECT_TITLE_LISTS = ("calls", "projects", "needs", "bids", "questions", "panels", "objections", "contracts",
                      "pledges", "payments", "organisations", "catalogue_versions", "fairs", "funds", "resources",
                      "jurisdictions", "users", "files", "indicator_versions", "delivery_reports", "surveys",
                      "survey_answers", "rectification_items")
OBJECT_TITLES = """
select 'call' as type, c.id::text as id, c.title_zh, c.title_en, null::text as page from calls c
 where c.id = any($1::bigint[])
union all
select 'project', p.id::text, p.title_zh, p.title_en, null from projects p where p.id = any($2::bigint[])
union all
select 'need', n.id::text, n.title, '', null from needs n where n.id = any($3::bigint[])
union all
select 'bid', b.id::text, c.title_zh, c.title_en, null from bids b join calls c on c.id = b.call_id
 where b.id = any($4::bigint[])
union all
select 'question', q.id::text, c.title_zh, c.title_en, null from call_questions q join calls c on c.id = q.call_id
 where q.id = any($5::bigint[])
union all
select 'panel', p.id::text, coalesce(c.title_zh, bc.title_zh, kc.title_zh), coalesce(c.title_en, bc.title_en, kc.title_en),
       null
  from panels p
  left join calls c on p.subject_type = 'call' and c.id = p.subject_id
  left join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
  left join calls bc on bc.id = b.call_id
  left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
  left join calls kc on kc.id = k.call_id
 where p.id = any($6::bigint[])
union all
select 'objection', x.id::text, c.title_zh, c.title_en, null
  from objections x left join awards a on a.id = x.award_id left join call_batches b on b.id = x.batch_id
  join calls c on c.id = coalesce(a.call_id, b.call_id)
 where x.id = any($7::bigint[])
union all
select 'contract', k.id::text, c.title_zh, c.title_en, null from contracts k join calls c on c.id = k.call_id
 where k.id = any($8::bigint[])
union all
select 'pledge', p.id::text, coalesce(pr.title_zh, f.name_zh, n.title), coalesce(nullif(pr.title_en, ''), f.name_en, ''),
       null
  from pledges p left join projects pr on pr.id = p.project_id left join funds f on f.id = p.fund_id
  left join needs n on n.id = p.need_id
 where p.id = any($9::bigint[])
union all
select 'payment', y.id::text, coalesce(pr.title_zh, f.name_zh, n.title), coalesce(nullif(pr.title_en, ''), f.name_en, ''),
       null
  from payments y join pledges p on p.id = y.pledge_id left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id left join needs n on n.id = p.need_id
 where y.id = any($10::bigint[])
union all
select 'organisation', o.id::text, o.name_zh, o.name_en, null from organisations o where o.id = any($11::bigint[])
union all
select 'catalogue_version', v.id::text, v.title_zh, v.title_en, null from catalogue_versions v
 where v.id = any($12::bigint[])
union all
select 'fair', f.id::text, f.title_zh, f.title_en, null from fairs f where f.id = any($13::bigint[])
union all
select 'fund', f.id::text, f.name_zh, f.name_en, null from funds f where f.id = any($14::bigint[])
union all
select 'resource', r.id::text, r.title, '', null from resources r where r.id = any($15::bigint[])
union all
select 'jurisdiction', j.id::text, j.name_zh, j.name_en, null from jurisdictions j where j.id = any($16::bigint[])
union all
select 'user', u.id::text, u.display_name, '', null from users u where u.id = any($17::bigint[])
union all
select 'file', f.id::text, f.filename, '', null from files f where f.id = any($18::uuid[])
union all
select 'indicator_version', v.id::text, v.title_zh, v.title_en, null from indicator_versions v
 where v.id = any($19::bigint[])
union all
select 'delivery_report', r.id::text, c.title_zh, c.title_en,
       '/contracts/' || r.contract_id || '/reports/' || r.position
  from delivery_reports r join contracts k on k.id = r.contract_id join calls c on c.id = k.call_id
 where r.id = any($20::bigint[])
union all
select 'survey', s.id::text, coalesce(c.title_zh, j.name_zh), coalesce(c.title_en, j.name_en), null
  from surveys s left join contracts k on k.id = s.contract_id left join calls c on c.id = k.call_id
  left join jurisdictions j on j.id = s.community_id
 where s.id = any($21::bigint[])
union all
select 'survey_text', a.id::text, coalesce(c.title_zh, j.name_zh), coalesce(c.title_en, j.name_en),
       '/surveys/' || s.id
  from survey_answers a join surveys s on s.id = a.survey_id left join contracts k on k.id = s.contract_id
  left join calls c on c.id = k.call_id left join jurisdictions j on j.id = s.community_id
 where a.id = any($22::bigint[])
union all
select 'rectification_item', r.id::text, r.finding_zh, r.finding_en, null from rectification_items r
 where r.id = any($23::bigint[])"""
