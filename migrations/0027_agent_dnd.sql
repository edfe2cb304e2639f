-- Do not disturb: an agent state of its own (no offers, no outbound calls),
-- entered from READY or PAUSED ('dnd') or by passing on an inbound offer in
-- a queue that says so, and left with 'dnd_off' back to where the agent was.
-- Its time is pause with code DND in the reports; the row's pause_code stays
-- NULL as for every state but PAUSED.
ALTER TABLE agent_events DROP CONSTRAINT agent_events_event_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_event_check CHECK (event IN ('login', 'ready', 'pause', 'offer',
	'accept', 'reject', 'ring_timeout', 'connect', 'hold', 'resume', 'call_end', 'dispo_saved', 'wrapup_timeout',
	'logout', 'session_lost', 'dial', 'answer', 'unanswered', 'dnd', 'dnd_off'));
ALTER TABLE agent_events DROP CONSTRAINT agent_events_from_state_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_from_state_check
	CHECK (from_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO', 'DIALING', 'DND'));
ALTER TABLE agent_events DROP CONSTRAINT agent_events_to_state_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_to_state_check
	CHECK (to_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO', 'DIALING', 'DND'));
