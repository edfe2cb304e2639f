-- Agent-started calls, preview skips and manual dials of new numbers.
--
-- An agent's own dial (preview, manual, callback) is DIALING until someone
-- answers: talk starts at the answer, and an unanswered dial ('unanswered')
-- returns the agent to READY with the engine's outcome and no wrap-up.
ALTER TABLE agent_events DROP CONSTRAINT agent_events_event_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_event_check CHECK (event IN ('login', 'ready', 'pause', 'offer',
	'accept', 'reject', 'ring_timeout', 'connect', 'hold', 'resume', 'call_end', 'dispo_saved', 'wrapup_timeout',
	'logout', 'session_lost', 'dial', 'answer', 'unanswered'));
ALTER TABLE agent_events DROP CONSTRAINT agent_events_from_state_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_from_state_check
	CHECK (from_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO', 'DIALING'));
ALTER TABLE agent_events DROP CONSTRAINT agent_events_to_state_check;
ALTER TABLE agent_events ADD CONSTRAINT agent_events_to_state_check
	CHECK (to_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO', 'DIALING'));

-- A preview the agent skipped goes back to the hopper behind every lead
-- already due, with its skip counted on the lead; each skip is kept, so a
-- campaign can cap skips per agent per hour (preview_skip_limit_per_hour,
-- 0: no cap), and the skipping agent is not offered the lead again for
-- preview_skip_hold_s.
ALTER TABLE leads ADD COLUMN skips integer NOT NULL DEFAULT 0;
ALTER TABLE leads ADD CONSTRAINT leads_skips_check CHECK (skips >= 0);
ALTER TABLE campaigns ADD COLUMN preview_skip_limit_per_hour integer NOT NULL DEFAULT 0
	CHECK (preview_skip_limit_per_hour BETWEEN 0 AND 1000);
ALTER TABLE campaigns ADD COLUMN preview_skip_hold_s integer NOT NULL DEFAULT 600
	CHECK (preview_skip_hold_s BETWEEN 0 AND 86400);
CREATE TABLE preview_skips (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	agent_id    bigint NOT NULL,
	lead_id     bigint NOT NULL,
	at          timestamptz NOT NULL
);
CREATE INDEX preview_skips_agent ON preview_skips (campaign_id, agent_id, at);

-- A number an agent dials by hand that is no lead of the campaign becomes
-- one, in the campaign's own manual list (one per campaign, made on first
-- use; its leads live in leads_shared).
ALTER TABLE lead_lists DROP CONSTRAINT lead_lists_format_check;
ALTER TABLE lead_lists ADD CONSTRAINT lead_lists_format_check CHECK (format IN ('csv', 'tsv', 'vicidial', 'manual'));
CREATE UNIQUE INDEX lead_lists_manual ON lead_lists (campaign_id) WHERE format = 'manual';
