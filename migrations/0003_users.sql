-- People who log in to the web workspace, their server-side sessions, and the
-- agents' call-control log. Owned by package web.
--
-- A user's id is also the agent ID the engine knows them by (agents.ID), so a
-- human agent's calls, sessions and state log carry their user id. Ids start
-- above 1,000,000: the simulated agents of `pacer serve --sim-agents N` use
-- the reserved range 1..N, which therefore never names a person.
CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000001) PRIMARY KEY CHECK (id > 1000000),
	username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
	display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
	role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'manager', 'admin')),
	-- bcrypt (cost >= 10), never the password.
	password_hash text NOT NULL CHECK (password_hash LIKE '$2_$%'),
	disabled      boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL DEFAULT now(),
	updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

-- One browser or script login. Only a hash of the cookie's token is stored,
-- so a copy of this table does not let anyone in; the CSRF token is per
-- session and sent back in X-CSRF-Token on every state-changing request.
CREATE TABLE user_sessions (
	token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf_token  text NOT NULL CHECK (length(csrf_token) >= 32),
	created_at  timestamptz NOT NULL DEFAULT now(),
	last_seen   timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	CHECK (expires_at > created_at)
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);

-- What agents did to their calls from the workspace beyond what the engine's
-- records hold: hold, resume, mute, unmute, transfer, conference and leave
-- (detail: the other party), keypad digits (detail: the digits) and the
-- disposition saved (its notes are on the call).
-- With the simulated carrier these act on the simulated call; this log is
-- the record either way.
CREATE TABLE call_actions (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	agent_id    bigint NOT NULL,
	lead_id     bigint REFERENCES leads (id) ON DELETE SET NULL,
	call_seq    bigint NOT NULL CHECK (call_seq > 0),
	action      text NOT NULL CHECK (action IN ('hold', 'resume', 'mute', 'unmute', 'transfer', 'conference',
	                'leave', 'dtmf', 'hangup', 'disposition')),
	detail      text NOT NULL DEFAULT '' CHECK (length(detail) <= 4000),
	at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_actions_lead ON call_actions (lead_id, at) WHERE lead_id IS NOT NULL;
CREATE INDEX call_actions_agent ON call_actions (agent_id, at);

-- The wallboard's "today" figures read a campaign's calls by dial time
-- (calls belong to package dialer; this index serves the web's read).
CREATE INDEX calls_campaign_dialed ON calls (campaign_id, dialed_at);
