-- An indicator of the satisfaction dimension may say how residents are asked about it: evaluators score
-- "服务对象满意率", a resident answers "总体来说，您对这个项目的服务满意吗？". Empty: residents are asked
-- the indicator's name, as before. The lengths are those of a survey's question.
alter table indicator_nodes
    add column question_zh text not null default '' check (length(question_zh) <= 200),
    add column question_en text not null default '' check (length(question_en) <= 300);
