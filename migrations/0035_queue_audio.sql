-- Recorded messages per inbound queue (issue 14 item 10). queue_audio holds
-- a queue's recordings as campaign_audio holds a campaign's: converted at
-- upload to 8 kHz G.711 µ-law (one byte a sample, so 8 bytes a millisecond),
-- at most 5 minutes each. kind welcome is played once to a caller answered
-- into the queue, comfort every comfort_every_ms of music while they wait,
-- hold_music is the queue's own music (without one, the node's music).
CREATE TABLE queue_audio (
	queue_id    bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
	kind        text NOT NULL CHECK (kind IN ('welcome', 'comfort', 'hold_music')),
	pcmu        bytea NOT NULL CHECK (length(pcmu) BETWEEN 1 AND 8000 * 300),
	duration_ms integer GENERATED ALWAYS AS (length(pcmu) / 8) STORED,
	file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255 AND file_name !~ '[[:cntrl:]]'),
	uploaded_by text NOT NULL CHECK (uploaded_by <> ''),
	uploaded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (queue_id, kind)
);

-- How much music a waiting caller hears between comfort messages: 0 is
-- off (the comfort recording, if any, stays stored but is not played).
ALTER TABLE queues
	ADD COLUMN comfort_every_ms integer NOT NULL DEFAULT 45000
		CHECK (comfort_every_ms = 0 OR comfort_every_ms BETWEEN 15000 AND 600000);
