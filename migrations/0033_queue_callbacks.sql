-- Queue callbacks (issue 14 item 6). Callback requests move to package
-- inbound: a request is either one a person handles by hand (kind 'manual':
-- assigned to available agents of its campaign for its first two hours) or
-- one its queue dials (kind 'queue'): it keeps the place the caller had when
-- they left the queue (entered_at), is held by one node's router (node), and
-- is dialled by an agent the router reserved for it when that place reaches
-- the front. 'dialling' is a queue request whose call is being placed or is
-- live; only one such row can exist per request, which is how a request is
-- never dialled twice at once.
ALTER TABLE callback_requests
	ADD COLUMN kind         text NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'queue')),
	ADD COLUMN queue_id     bigint REFERENCES queues (id) ON DELETE SET NULL,
	ADD COLUMN entered_at   timestamptz,
	ADD COLUMN node         text NOT NULL DEFAULT '',
	ADD COLUMN not_before   timestamptz,
	ADD COLUMN expires_at   timestamptz,
	ADD COLUMN max_attempts integer NOT NULL DEFAULT 0 CHECK (max_attempts >= 0),
	ADD COLUMN dial_campaign bigint,
	ADD COLUMN dial_agent   bigint,
	ADD COLUMN dial_lead    bigint,
	ADD COLUMN dial_call    bigint,
	ADD COLUMN dialled_at   timestamptz;
ALTER TABLE callback_requests DROP CONSTRAINT callback_requests_status_check;
ALTER TABLE callback_requests DROP CONSTRAINT callback_requests_check;
ALTER TABLE callback_requests
	ADD CONSTRAINT callback_requests_status_check
		CHECK (status IN ('pending', 'dialling', 'answered', 'unanswered', 'closed')),
	ADD CONSTRAINT callback_requests_open CHECK ((status IN ('pending', 'dialling')) = (closed_at IS NULL)),
	ADD CONSTRAINT callback_requests_queue_kind CHECK ((kind = 'queue') = (entered_at IS NOT NULL)),
	ADD CONSTRAINT callback_requests_dialling CHECK (status <> 'dialling' OR (kind = 'queue' AND dialled_at IS NOT NULL
		AND dial_agent IS NOT NULL));
CREATE INDEX callback_requests_queue_open ON callback_requests (node, entered_at)
	WHERE kind = 'queue' AND status IN ('pending', 'dialling');

-- Queue settings for callbacks: how many times one is dialled, how long
-- after a try that did not reach the caller it is tried again, and how long
-- after it was left it expires.
ALTER TABLE queues
	ADD COLUMN callback_attempts  integer NOT NULL DEFAULT 3 CHECK (callback_attempts BETWEEN 1 AND 10),
	ADD COLUMN callback_retry_ms  integer NOT NULL DEFAULT 300000 CHECK (callback_retry_ms BETWEEN 60000 AND 86400000),
	ADD COLUMN callback_expire_ms bigint NOT NULL DEFAULT 28800000
		CHECK (callback_expire_ms BETWEEN 600000 AND 604800000),
	ADD COLUMN allow_callback     boolean NOT NULL DEFAULT false;

-- The request's life, one row per (status, event) step (inbound.RequestEvent):
-- append-only, in order.
CREATE TABLE callback_request_events (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id  bigint NOT NULL REFERENCES callback_requests (id) ON DELETE CASCADE,
	at          timestamptz NOT NULL,
	event       text NOT NULL,
	from_status text NOT NULL,
	to_status   text NOT NULL,
	agent_id    bigint,
	by_user     bigint,
	node        text NOT NULL DEFAULT '',
	call_id     bigint,
	detail      text NOT NULL DEFAULT ''
);
CREATE INDEX callback_request_events_request ON callback_request_events (request_id, seq);
