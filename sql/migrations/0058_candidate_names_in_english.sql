-- A panel names its candidates as it is formed, each by its organisation's name in Chinese, and a
-- page in English showed that name under an award the page gave in English. A candidate now keeps
-- the English name as well (empty where the organisation has none), from the same moment.
alter table panel_candidates add column label_en text not null default '' check (length(label_en) <= 200);

update panel_candidates c set label_en = o.name_en
  from organisations o
 where o.id = c.organisation_id and c.label = o.name_zh;
