-- The agent attaches the lead an inbound caller is (the one lead with the
-- caller's number, their choice among several, or a lead made from the
-- call) to the call: the engine's inbound call holds no lead, so the web
-- records the attachment with the call's other actions.
ALTER TABLE call_actions DROP CONSTRAINT call_actions_action_check;
ALTER TABLE call_actions ADD CONSTRAINT call_actions_action_check CHECK (action IN ('hold', 'resume', 'mute', 'unmute',
	'transfer', 'conference', 'leave', 'dtmf', 'hangup', 'disposition', 'attach_lead'));
