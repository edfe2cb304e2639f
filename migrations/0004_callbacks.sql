-- Dispositions with notes, the wrap-up limit's automatic disposition, scheduled
-- callbacks with their River jobs and state log, callback requests from
-- inbound callers, and the daily roll-ups. callbacks, callback_events,
-- callback_requests and the lead/campaign columns are package campaigns';
-- the calls columns and campaign_daily_stats package dialer's;
-- agent_daily_stats package agents' (roll-ups are derived data, rebuilt
-- from calls and agent_events by the nightly job).

-- The agent's notes on the call, and whether the disposition was the
-- automatic one of the wrap-up limit.
ALTER TABLE calls
	ADD COLUMN notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
	ADD COLUMN auto_disposition boolean NOT NULL DEFAULT false;

-- A callback for scope `me` that its agent has not taken within the grace
-- period goes to anyone (the hopper) or is marked missed for a supervisor.
ALTER TABLE campaigns
	ADD COLUMN callback_grace_s integer NOT NULL DEFAULT 3600 CHECK (callback_grace_s BETWEEN 0 AND 604800),
	ADD COLUMN callback_grace_then text NOT NULL DEFAULT 'anyone' CHECK (callback_grace_then IN ('anyone', 'missed'));

-- `callback`: the lead waits for its scheduled callback; the hopper never
-- claims it. The callback's job moves it on (DESIGN.md §3, issue 6).
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check CHECK (status IN ('new', 'retry', 'dialing', 'done', 'callback'));

-- The wrap-up limit's disposition: a system code, so agents never pick it.
INSERT INTO dispositions (campaign_id, code, label, category, final, system, position)
SELECT id, 'AUTO', 'Wrap-up time ran out', 'contact', false, true, 11 FROM campaigns
ON CONFLICT DO NOTHING;

CREATE TABLE callbacks (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	lead_id      bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
	-- the agent who set it; with scope `me`, the one it is offered to.
	agent_id     bigint,
	-- the call whose disposition set it (calls rows are never deleted alone).
	call_id      bigint REFERENCES calls (id) ON DELETE SET NULL,
	scope        text NOT NULL CHECK (scope IN ('me', 'anyone')),
	status       text NOT NULL DEFAULT 'scheduled'
	             CHECK (status IN ('scheduled', 'due', 'offered', 'dialled', 'completed', 'missed', 'cancelled')),
	-- when it falls due (UTC); requested_at is what the agent asked for
	-- before the lead's calling window moved it.
	due_at       timestamptz NOT NULL,
	requested_at timestamptz NOT NULL,
	notes        text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
	-- bumped by every reschedule; a job only acts for the version it carries,
	-- so a stale job (rescheduled, cancelled, delivered twice) does nothing.
	version      integer NOT NULL DEFAULT 1 CHECK (version > 0),
	job_id       bigint,
	-- the lead's priority before an `anyone` callback lifted it to the top.
	lead_priority integer,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	CHECK (scope <> 'me' OR agent_id IS NOT NULL)
);
-- A lead has at most one open callback.
CREATE UNIQUE INDEX callbacks_open_lead ON callbacks (lead_id)
	WHERE status IN ('scheduled', 'due', 'offered', 'dialled');
CREATE INDEX callbacks_agent ON callbacks (agent_id, status, due_at);
CREATE INDEX callbacks_campaign ON callbacks (campaign_id, status, due_at);

-- Every state change of a callback, appended, never changed.
CREATE TABLE callback_events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	callback_id bigint NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
	at          timestamptz NOT NULL,
	event       text NOT NULL CHECK (event IN ('schedule', 'reschedule', 'fall_due', 'offer', 'decline', 'dial',
	                'complete', 'expire', 'widen', 'cancel', 'recover')),
	from_status text CHECK (from_status IN ('scheduled', 'due', 'offered', 'dialled', 'completed', 'missed', 'cancelled')),
	to_status   text NOT NULL CHECK (to_status IN ('scheduled', 'due', 'offered', 'dialled', 'completed', 'missed', 'cancelled')),
	agent_id    bigint,
	detail      text NOT NULL DEFAULT ''
);
CREATE INDEX callback_events_callback ON callback_events (callback_id, id);
CREATE TRIGGER callback_events_no_update BEFORE UPDATE ON callback_events
	FOR EACH ROW EXECUTE FUNCTION agent_events_append_only();

-- An inbound caller's request to be called back (the help-desk flow):
-- offered to available agents automatically until auto_until, then left for
-- someone to take by hand.
CREATE TABLE callback_requests (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id  bigint REFERENCES campaigns (id) ON DELETE CASCADE,
	queue        text NOT NULL DEFAULT '',
	phone        text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{5,14}$'),
	name         text NOT NULL DEFAULT '',
	notes        text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
	status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'answered', 'unanswered', 'closed')),
	requested_at timestamptz NOT NULL,
	auto_until   timestamptz NOT NULL,
	agent_id     bigint,
	assigned_at  timestamptz,
	attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	closed_at    timestamptz,
	closed_by    bigint,
	CHECK ((status = 'pending') = (closed_at IS NULL)),
	CHECK ((agent_id IS NULL) = (assigned_at IS NULL)),
	CHECK (auto_until >= requested_at)
);
CREATE INDEX callback_requests_status ON callback_requests (status, requested_at);
CREATE INDEX callback_requests_agent ON callback_requests (agent_id) WHERE status = 'pending';

-- Daily roll-ups (UTC days), rebuilt idempotently by the nightly job from
-- calls and agent_events; reports read these instead of the raw logs.
CREATE TABLE agent_daily_stats (
	day          date NOT NULL,
	agent_id     bigint NOT NULL,
	campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	calls        integer NOT NULL CHECK (calls >= 0),
	talk_s       numeric(14,3) NOT NULL CHECK (talk_s >= 0),
	hold_s       numeric(14,3) NOT NULL CHECK (hold_s >= 0),
	wait_s       numeric(14,3) NOT NULL CHECK (wait_s >= 0),
	ring_s       numeric(14,3) NOT NULL CHECK (ring_s >= 0),
	pause_s      numeric(14,3) NOT NULL CHECK (pause_s >= 0),
	dispo_s      numeric(14,3) NOT NULL CHECK (dispo_s >= 0),
	-- calls by disposition code, {"SALE": 3, "NI": 10}
	dispositions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(dispositions) = 'object'),
	rolled_at    timestamptz NOT NULL,
	PRIMARY KEY (day, agent_id, campaign_id)
);

CREATE TABLE campaign_daily_stats (
	day          date NOT NULL,
	campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	dials        integer NOT NULL CHECK (dials >= 0),
	live_answers integer NOT NULL CHECK (live_answers >= 0),
	connected    integer NOT NULL CHECK (connected >= 0),
	abandoned    integer NOT NULL CHECK (abandoned >= 0),
	machines     integer NOT NULL CHECK (machines >= 0),
	talk_s       numeric(14,3) NOT NULL CHECK (talk_s >= 0),
	dispo_s      numeric(14,3) NOT NULL CHECK (dispo_s >= 0),
	wait_s       numeric(14,3) NOT NULL CHECK (wait_s >= 0),
	pause_s      numeric(14,3) NOT NULL CHECK (pause_s >= 0),
	dispositions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(dispositions) = 'object'),
	rolled_at    timestamptz NOT NULL,
	PRIMARY KEY (day, campaign_id)
);
