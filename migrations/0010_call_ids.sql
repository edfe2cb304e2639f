-- A call's id is durable and unique across nodes and restarts, and the same
-- integer everywhere: the engine numbers the calls of each run of a campaign's
-- loop from its lease epoch shifted left 26 bits (dialer.CallIDBase), writes
-- that number as calls.id (and seq), and the API, the live events, call_actions
-- and history all show it. Rows written before keep their ids; the sequence
-- left as the default numbers rows inserted without one (tools, tests), far
-- below any engine id.
ALTER TABLE calls ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE calls_id_seq OWNED BY calls.id;
SELECT setval('calls_id_seq', coalesce((SELECT max(id) FROM calls), 0) + 1, false);
ALTER TABLE calls ALTER COLUMN id SET DEFAULT nextval('calls_id_seq');
