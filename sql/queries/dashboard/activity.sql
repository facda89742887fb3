-- name: object_titles
-- The title of every object an activity feed names, by type and id, in one statement: a call's
-- (for its bids, questions, panels, objections and contracts too), a project's, a need's, a
-- pledge's or payment's target, an organisation's name, and so on.
select 'call' as type, c.id::text as id, c.title_zh, c.title_en from calls c where c.id = any(:calls::bigint[])
union all
select 'project', p.id::text, p.title_zh, p.title_en from projects p where p.id = any(:projects::bigint[])
union all
select 'need', n.id::text, n.title, '' from needs n where n.id = any(:needs::bigint[])
union all
select 'bid', b.id::text, c.title_zh, c.title_en from bids b join calls c on c.id = b.call_id
 where b.id = any(:bids::bigint[])
union all
select 'question', q.id::text, c.title_zh, c.title_en from call_questions q join calls c on c.id = q.call_id
 where q.id = any(:questions::bigint[])
union all
select 'panel', p.id::text, coalesce(c.title_zh, bc.title_zh, kc.title_zh), coalesce(c.title_en, bc.title_en, kc.title_en)
  from panels p
  left join calls c on p.subject_type = 'call' and c.id = p.subject_id
  left join call_batches b on p.subject_type = 'batch' and b.id = p.subject_id
  left join calls bc on bc.id = b.call_id
  left join contracts k on p.subject_type in ('midterm', 'final') and k.id = p.subject_id
  left join calls kc on kc.id = k.call_id
 where p.id = any(:panels::bigint[])
union all
select 'objection', x.id::text, c.title_zh, c.title_en
  from objections x left join awards a on a.id = x.award_id left join call_batches b on b.id = x.batch_id
  join calls c on c.id = coalesce(a.call_id, b.call_id)
 where x.id = any(:objections::bigint[])
union all
select 'contract', k.id::text, c.title_zh, c.title_en from contracts k join calls c on c.id = k.call_id
 where k.id = any(:contracts::bigint[])
union all
select 'pledge', p.id::text, coalesce(pr.title_zh, f.name_zh, n.title), coalesce(nullif(pr.title_en, ''), f.name_en, '')
  from pledges p left join projects pr on pr.id = p.project_id left join funds f on f.id = p.fund_id
  left join needs n on n.id = p.need_id
 where p.id = any(:pledges::bigint[])
union all
select 'payment', y.id::text, coalesce(pr.title_zh, f.name_zh, n.title), coalesce(nullif(pr.title_en, ''), f.name_en, '')
  from payments y join pledges p on p.id = y.pledge_id left join projects pr on pr.id = p.project_id
  left join funds f on f.id = p.fund_id left join needs n on n.id = p.need_id
 where y.id = any(:payments::bigint[])
union all
select 'organisation', o.id::text, o.name_zh, o.name_en from organisations o where o.id = any(:organisations::bigint[])
union all
select 'catalogue_version', v.id::text, v.title_zh, v.title_en from catalogue_versions v
 where v.id = any(:catalogue_versions::bigint[])
union all
select 'fair', f.id::text, f.title_zh, f.title_en from fairs f where f.id = any(:fairs::bigint[])
union all
select 'fund', f.id::text, f.name_zh, f.name_en from funds f where f.id = any(:funds::bigint[])
union all
select 'resource', r.id::text, r.title, '' from resources r where r.id = any(:resources::bigint[])
union all
select 'jurisdiction', j.id::text, j.name_zh, j.name_en from jurisdictions j where j.id = any(:jurisdictions::bigint[])
union all
select 'user', u.id::text, u.display_name, '' from users u where u.id = any(:users::bigint[])
union all
select 'file', f.id::text, f.filename, '' from files f where f.id = any(:files::uuid[]);
