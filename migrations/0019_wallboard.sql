-- The supervisor's wallboard (package web).
--
-- supervisor_actions audits every force pause and force logout a
-- supervisor, manager or admin carried out: who, when, which agent of which
-- campaign, why, and what the engine did (a pause asked for during a call
-- is taken when the call is dispositioned).
CREATE TABLE supervisor_actions (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL,
	actor_id    bigint NOT NULL REFERENCES users (id),
	actor_name  text NOT NULL CHECK (actor_name <> ''),
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	agent_id    bigint NOT NULL,
	action      text NOT NULL CHECK (action IN ('force_pause', 'force_logout')),
	reason      text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 200),
	-- the agent's state when the action was taken, and its effect.
	agent_state text NOT NULL,
	outcome     text NOT NULL CHECK (outcome IN ('paused', 'pause_after_call', 'logged_out')),
	CHECK (outcome <> 'logged_out' OR action = 'force_logout'),
	CHECK (outcome = 'logged_out' OR action = 'force_pause')
);
CREATE INDEX supervisor_actions_campaign ON supervisor_actions (campaign_id, at DESC);

-- stats_samples are the wallboard's chart points, one per campaign every
-- ten seconds while its loop runs, so a chart can span a shift (8 h, today)
-- and survive a restart. Kept for two days.
CREATE TABLE stats_samples (
	campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	at           timestamptz NOT NULL,
	-- calls dialling or ringing per READY agent (0 with no READY agent).
	dial_level   double precision NOT NULL CHECK (dial_level >= 0),
	lines        integer NOT NULL CHECK (lines >= 0),
	-- abandon rate over the campaign's legal window, and today's answer rate.
	abandon_rate double precision NOT NULL CHECK (abandon_rate BETWEEN 0 AND 1),
	answer_rate  double precision NOT NULL CHECK (answer_rate BETWEEN 0 AND 1),
	ready        integer NOT NULL CHECK (ready >= 0),
	incall       integer NOT NULL CHECK (incall >= 0),
	dispo        integer NOT NULL CHECK (dispo >= 0),
	paused       integer NOT NULL CHECK (paused >= 0),
	PRIMARY KEY (campaign_id, at)
);
CREATE INDEX stats_samples_at ON stats_samples (at);
