-- Inbound callers are matched to leads by number (campaigns.CallerLeads),
-- across every campaign, on every call that rings in: without an index that
-- is a scan of all leads per caller.
CREATE INDEX leads_phone ON leads (phone);

-- The agent attaches the lead an inbound caller is (one match, their choice
-- among several, or a lead made from the call) to the call: the web records
-- it with the call's other actions, as it does the answer to the offer.
ALTER TABLE call_actions DROP CONSTRAINT call_actions_action_check;
ALTER TABLE call_actions ADD CONSTRAINT call_actions_action_check CHECK (action IN ('hold', 'resume', 'mute', 'unmute',
	'transfer', 'conference', 'leave', 'dtmf', 'hangup', 'disposition', 'attach_lead'));
