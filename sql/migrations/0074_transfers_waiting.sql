-- The transfers page of a receiver reads the transfers waiting for its word, the longest waiting
-- first (market.funding.pledges.payment_queue): the few pending bank transfers of the whole city,
-- in the order recorded, are read from here and filtered by their receiver.
create index payments_waiting on payments (id) where status = 'pending' and method = 'offline';
