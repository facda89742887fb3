-- Issue 17: the rating clock every app process runs every half minute asks, for each signed contract,
-- when its mid-term panel closed; with no index on a panel's subject that read every panel each time
-- (2.7 s a run on the generated city).
create index panels_by_subject on panels (subject_type, subject_id, status);
