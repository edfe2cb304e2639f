-- Inbound queues (issue 14): queues, the numbers that reach them, the agents
-- who serve them, and the append-only queue event log the wallboard's and
-- the simulator's figures are computed from. Package inbound owns these
-- tables (inbound/queue_store.go, inbound/store.go). Durations are whole
-- milliseconds. Go checks every setting first with a message a manager can
-- act on (inbound/queue_validate.go); the CHECKs are the net.

-- queues: one inbound queue's settings. An action's *_queue is set exactly
-- when the action is 'queue', and never names the queue itself; 'wait'
-- (keep waiting) only makes sense at closing time and with no agents.
-- open_always makes the queue open every minute; otherwise hours holds
-- seven [open_s, close_s] pairs (seconds from midnight in time_zone, Sunday
-- first; [0, 0] is closed all day). hours is kept while open_always is on,
-- so switching it off brings the week back.
-- A queue another queue sends callers to cannot be deleted (RESTRICT).
CREATE TABLE queues (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64 AND name = btrim(name)
	                       AND name !~ '[[:cntrl:]]'),
	priority           integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
	sl_threshold_ms    integer NOT NULL DEFAULT 20000 CHECK (sl_threshold_ms BETWEEN 1 AND 3600000),
	sl_target          double precision NOT NULL DEFAULT 0.8 CHECK (sl_target > 0 AND sl_target <= 1),
	method             text NOT NULL DEFAULT 'longest_idle'
	                       CHECK (method IN ('longest_idle', 'fewest_calls', 'rank', 'round_robin', 'ring_all')),
	ring_ms            integer NOT NULL DEFAULT 30000 CHECK (ring_ms BETWEEN 15000 AND 180000),
	reject_to_dnd      boolean NOT NULL DEFAULT false,
	max_wait_ms        integer NOT NULL DEFAULT 0 CHECK (max_wait_ms BETWEEN 0 AND 86400000),
	max_depth          integer NOT NULL DEFAULT 0 CHECK (max_depth BETWEEN 0 AND 100000),
	overflow_action    text NOT NULL DEFAULT 'hangup' CHECK (overflow_action IN ('hangup', 'queue', 'callback')),
	overflow_queue     bigint REFERENCES queues (id) ON DELETE RESTRICT,
	open_always        boolean NOT NULL DEFAULT true,
	hours              jsonb NOT NULL DEFAULT '[[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0]]'
	                       CHECK (jsonb_typeof(hours) = 'array' AND jsonb_array_length(hours) = 7),
	time_zone          text NOT NULL DEFAULT 'UTC' CHECK (time_zone <> '' AND time_zone <> 'Local'),
	after_hours_action text NOT NULL DEFAULT 'hangup' CHECK (after_hours_action IN ('hangup', 'queue', 'callback')),
	after_hours_queue  bigint REFERENCES queues (id) ON DELETE RESTRICT,
	at_close_action    text NOT NULL DEFAULT 'hangup' CHECK (at_close_action IN ('hangup', 'queue', 'callback', 'wait')),
	at_close_queue     bigint REFERENCES queues (id) ON DELETE RESTRICT,
	no_agents_action   text NOT NULL DEFAULT 'hangup' CHECK (no_agents_action IN ('hangup', 'queue', 'callback', 'wait')),
	no_agents_queue    bigint REFERENCES queues (id) ON DELETE RESTRICT,
	widen_after_ms     integer NOT NULL DEFAULT 0 CHECK (widen_after_ms BETWEEN 0 AND 86400000),
	sticky_ms          integer NOT NULL DEFAULT 0 CHECK (sticky_ms BETWEEN 0 AND 86400000),
	allow_take         boolean NOT NULL DEFAULT false,
	created_at         timestamptz NOT NULL DEFAULT now(),
	updated_at         timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT queues_overflow_target CHECK ((overflow_action = 'queue') = (overflow_queue IS NOT NULL)
		AND overflow_queue IS DISTINCT FROM id),
	CONSTRAINT queues_after_hours_target CHECK ((after_hours_action = 'queue') = (after_hours_queue IS NOT NULL)
		AND after_hours_queue IS DISTINCT FROM id),
	CONSTRAINT queues_at_close_target CHECK ((at_close_action = 'queue') = (at_close_queue IS NOT NULL)
		AND at_close_queue IS DISTINCT FROM id),
	CONSTRAINT queues_no_agents_target CHECK ((no_agents_action = 'queue') = (no_agents_queue IS NOT NULL)
		AND no_agents_queue IS DISTINCT FROM id)
);
CREATE INDEX queues_overflow_queue ON queues (overflow_queue) WHERE overflow_queue IS NOT NULL;
CREATE INDEX queues_after_hours_queue ON queues (after_hours_queue) WHERE after_hours_queue IS NOT NULL;
CREATE INDEX queues_at_close_queue ON queues (at_close_queue) WHERE at_close_queue IS NOT NULL;
CREATE INDEX queues_no_agents_queue ON queues (no_agents_queue) WHERE no_agents_queue IS NOT NULL;

-- queue_dids: the numbers callers dial (E.164), each reaching one queue. A
-- queue that numbers still reach cannot be deleted (RESTRICT).
CREATE TABLE queue_dids (
	number   text PRIMARY KEY CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
	queue_id bigint NOT NULL REFERENCES queues (id) ON DELETE RESTRICT
);
CREATE INDEX queue_dids_queue ON queue_dids (queue_id);

-- queue_members: the agents serving a queue. agent_id is a user's id or a
-- simulated agent's (as in campaign_agents), so it names no table. Level 1
-- is the first line; higher levels are offered calls after the queue's
-- widen_after. Rank orders members for the rank method (lower first).
CREATE TABLE queue_members (
	queue_id bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
	agent_id bigint NOT NULL CHECK (agent_id > 0),
	level    integer NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 9),
	rank     integer NOT NULL DEFAULT 0 CHECK (rank BETWEEN 0 AND 9999),
	PRIMARY KEY (queue_id, agent_id)
);
CREATE INDEX queue_members_agent ON queue_members (agent_id);

-- queue_events: the append-only queue event log (inbound.Event). Rows are
-- never updated or deleted; the log outlives a deleted queue, so queue_id
-- names no table. seq orders the log: writers take a lock around their
-- inserts (inbound/store.go), so a reader following seq never skips a row
-- committed late. entered is the call's first entry in any queue, its place
-- (NULL: not known); every wait is at - entered. It is not checked against
-- at: an event is never refused for another node's clock, and the figures
-- count a negative wait as zero.
CREATE TABLE queue_events (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	queue_id    bigint NOT NULL CHECK (queue_id > 0),
	call_key    bigint NOT NULL,
	kind        text NOT NULL CHECK (kind IN ('enter', 'offer', 'connect', 'reject', 'timeout', 'abandon',
	                'overflow', 'exit')),
	at          timestamptz NOT NULL,
	entered     timestamptz,
	agent_id    bigint CHECK (agent_id > 0),
	from_number text NOT NULL DEFAULT '' CHECK (length(from_number) <= 128),
	did         text NOT NULL DEFAULT '' CHECK (length(did) <= 128),
	detail      text NOT NULL DEFAULT '' CHECK (length(detail) <= 500),
	CONSTRAINT queue_events_agent CHECK (agent_id IS NOT NULL OR kind NOT IN ('offer', 'connect', 'reject', 'timeout'))
);
CREATE INDEX queue_events_at ON queue_events (at);
CREATE INDEX queue_events_queue_at ON queue_events (queue_id, at);
