-- Inbound callers an agent took are calls of the agent's campaign, with
-- direction 'inbound' and the queue they came from. They are no dial: every
-- outbound figure (the abandon budget, what pacing learns, penetration,
-- abandon and compliance reports, day stats) counts only 'outbound' calls.
-- dialed_at of an inbound call is when the caller entered the queue.
ALTER TABLE calls ADD COLUMN direction text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound'));
ALTER TABLE calls ADD COLUMN queue_id bigint CHECK ((direction = 'inbound') = (queue_id IS NOT NULL));
