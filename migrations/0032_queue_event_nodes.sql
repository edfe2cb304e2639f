-- Which node logged each queue event: a caller waits on the node that holds
-- their leg, and when that node dies (or starts a new life) the callers it
-- left waiting are gone with it. inbound.CloseOrphans gives each such open
-- visit an exit event ('node lost'), so the figures never count them as
-- waiting for ever. '' (rows from before): no node known.
ALTER TABLE queue_events ADD COLUMN node text NOT NULL DEFAULT '' CHECK (length(node) <= 128);
CREATE INDEX queue_events_call ON queue_events (call_key, seq);
