-- A customer handed on from one agent to another of the campaign (a blind
-- transfer, or a conference its host left to the guest agent) gets a call
-- row of its own for the agent who takes them: their talk time and their
-- disposition are recorded on it, and it holds the lead from then on. It is
-- not a dial, an answer or a live answer of its own: counts of those skip
-- rows with transferred_from_seq set. It names the call (same run) the
-- customer came from.
ALTER TABLE calls ADD COLUMN transferred_from_seq bigint CHECK (transferred_from_seq > 0);

-- without_lead: the call ended without holding its lead: it handed the
-- customer on (the call they went to settles the lead), or it was a guest
-- agent's part of another agent's conference.
ALTER TABLE calls ADD COLUMN without_lead boolean NOT NULL DEFAULT false;
