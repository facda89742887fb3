-- Every award of a call, standing or not, and of a review batch: the open data's releases, a venture
-- round's budget and its batches read them so. Only the standing single award of a call had an index
-- (awards_one_per_call), so each of those read every award of the city (8,523 on the generated one).
create index awards_of_a_call on awards (call_id);
create index awards_of_a_batch on awards (batch_id) where batch_id is not null;
