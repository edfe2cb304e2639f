-- The engine's records: one row per call (package dialer) and agent sessions
-- with their append-only state log (package agents). Rows are written through
-- as calls and agents move, so a crash leaves a record; a node closes what it
-- left open when it starts again.

-- One row per call leg the engine placed. run_id is one life of a campaign
-- loop on one node and seq the engine's call ID within it (engines number
-- their calls from 1), so the pair names a call without a round trip to the
-- database before dialling.
CREATE TABLE calls (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id           uuid NOT NULL,
	seq              bigint NOT NULL CHECK (seq > 0),
	campaign_id      bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	lead_id          bigint REFERENCES leads (id) ON DELETE SET NULL,
	phone            text NOT NULL,
	node             text NOT NULL CHECK (node <> ''),
	agent_id         bigint,
	-- where the call is; 'ended' once it has an outcome.
	state            text NOT NULL CHECK (state IN ('dialing', 'ringing', 'answered', 'connected', 'ended')),
	outcome          text CHECK (outcome IN ('no_answer', 'busy', 'failed', 'machine', 'abandoned', 'completed')),
	answered_by      text CHECK (answered_by IN ('human', 'machine')),
	abandoned        boolean NOT NULL DEFAULT false,
	-- why a call ended other than by its own progress: 'shutdown' (the loop
	-- stopped and hung it up), 'node_restart' (closed by recovery).
	end_cause        text NOT NULL DEFAULT '',
	disposition      text CHECK (disposition ~ '^[A-Z0-9_]{1,16}$'),
	queued_at        timestamptz NOT NULL,
	dialed_at        timestamptz NOT NULL,
	ringing_at       timestamptz,
	answered_at      timestamptz,
	connected_at     timestamptz,
	ended_at         timestamptz,
	dispositioned_at timestamptz,
	-- the agent's side, known when the disposition closes the call.
	talk_s           numeric(12,3) CHECK (talk_s >= 0),
	hold_s           numeric(12,3) CHECK (hold_s >= 0),
	dispo_s          numeric(12,3) CHECK (dispo_s >= 0),
	cost             numeric(12,6) CHECK (cost >= 0),
	UNIQUE (run_id, seq),
	CHECK ((state = 'ended') = (outcome IS NOT NULL)),
	CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
	CHECK (abandoned = (outcome IS NOT DISTINCT FROM 'abandoned')),
	CHECK ((answered_by IS NULL) = (answered_at IS NULL)),
	-- a live outcome needs a person; a machine outcome a machine.
	CHECK (outcome NOT IN ('abandoned', 'completed') OR answered_by = 'human'),
	CHECK (outcome <> 'machine' OR answered_by = 'machine'),
	-- connected means a person was bridged to an agent; an abandon never was.
	CHECK (connected_at IS NULL OR (answered_by = 'human' AND agent_id IS NOT NULL)),
	CHECK (outcome <> 'completed' OR connected_at IS NOT NULL),
	CHECK (outcome <> 'abandoned' OR connected_at IS NULL),
	CHECK (state NOT IN ('answered', 'connected') OR answered_at IS NOT NULL),
	CHECK (state <> 'connected' OR connected_at IS NOT NULL),
	CHECK (disposition IS NULL OR state = 'ended'),
	-- system dispositions are stamped at the end, an agent's when saved.
	CHECK ((dispositioned_at IS NULL) = (disposition IS NULL)),
	CHECK (dialed_at >= queued_at),
	CHECK (ringing_at >= dialed_at),
	CHECK (answered_at >= dialed_at),
	CHECK (connected_at >= answered_at),
	CHECK (ended_at >= dialed_at),
	CHECK (dispositioned_at >= ended_at)
);
-- Recovery finds a node's open calls; the abandon budget reads live answers
-- per campaign over its window.
CREATE INDEX calls_open ON calls (node) WHERE state <> 'ended';
CREATE INDEX calls_live ON calls (campaign_id, ended_at) WHERE outcome IN ('completed', 'abandoned');
CREATE INDEX calls_lead ON calls (lead_id);

-- One login of an agent to a campaign. Totals are written at logout from the
-- engine's accounting; the state log below is the detail behind them.
CREATE TABLE agent_sessions (
	id            uuid PRIMARY KEY,
	agent_id      bigint NOT NULL,
	campaign_id   bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	node          text NOT NULL CHECK (node <> ''),
	login_at      timestamptz NOT NULL,
	logout_at     timestamptz,
	end_cause     text CHECK (end_cause IN ('logout', 'session_lost', 'node_restart')),
	calls         integer NOT NULL DEFAULT 0 CHECK (calls >= 0),
	wait_s        numeric(12,3) NOT NULL DEFAULT 0 CHECK (wait_s >= 0),
	ring_s        numeric(12,3) NOT NULL DEFAULT 0 CHECK (ring_s >= 0),
	talk_s        numeric(12,3) NOT NULL DEFAULT 0 CHECK (talk_s >= 0),
	hold_s        numeric(12,3) NOT NULL DEFAULT 0 CHECK (hold_s >= 0),
	dispo_s       numeric(12,3) NOT NULL DEFAULT 0 CHECK (dispo_s >= 0),
	pause_s       numeric(12,3) NOT NULL DEFAULT 0 CHECK (pause_s >= 0),
	-- pause seconds by pause code, {"BREAK": 120.5, "LOGIN": 3}
	pause_by_code jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(pause_by_code) = 'object'),
	CHECK ((logout_at IS NULL) = (end_cause IS NULL)),
	CHECK (logout_at >= login_at)
);
-- An agent is logged in to a campaign at most once.
CREATE UNIQUE INDEX agent_sessions_open ON agent_sessions (agent_id, campaign_id) WHERE logout_at IS NULL;
CREATE INDEX agent_sessions_node_open ON agent_sessions (node) WHERE logout_at IS NULL;

-- Every agent transition, in order, with the engine clock's timestamp.
CREATE TABLE agent_events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id  uuid NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
	agent_id    bigint NOT NULL,
	campaign_id bigint NOT NULL,
	at          timestamptz NOT NULL,
	event       text NOT NULL CHECK (event IN ('login', 'ready', 'pause', 'offer', 'accept', 'reject',
	                'ring_timeout', 'connect', 'hold', 'resume', 'call_end', 'dispo_saved',
	                'wrapup_timeout', 'logout', 'session_lost')),
	from_state  text NOT NULL CHECK (from_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO')),
	to_state    text NOT NULL CHECK (to_state IN ('LOGGED_OUT', 'PAUSED', 'READY', 'RINGING', 'INCALL', 'DISPO')),
	-- the pause code in force after the event, exactly when the agent is PAUSED
	pause_code  text CHECK ((to_state = 'PAUSED') = (pause_code IS NOT NULL)),
	-- set when the event closes a call's accounting (disposition, logout)
	call_talk_s  numeric(12,3) CHECK (call_talk_s >= 0),
	call_hold_s  numeric(12,3) CHECK (call_hold_s >= 0),
	call_dispo_s numeric(12,3) CHECK (call_dispo_s >= 0),
	CHECK ((event = 'login') = (from_state = 'LOGGED_OUT')),
	CHECK ((event IN ('logout', 'session_lost')) = (to_state = 'LOGGED_OUT'))
);
CREATE INDEX agent_events_session ON agent_events (session_id, id);
CREATE INDEX agent_events_agent ON agent_events (agent_id, at);

-- The state log is history: rows are appended, never changed.
CREATE FUNCTION agent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'agent_events is append-only';
END $$;
CREATE TRIGGER agent_events_no_update BEFORE UPDATE ON agent_events
	FOR EACH ROW EXECUTE FUNCTION agent_events_append_only();
