-- Writes that wait out a database outage are sent again when the answer to a
-- commit was lost with the connection; an agent event carries a key made when
-- it happened, so the second copy is recognised and not added (package
-- agents). Events written before have none.
ALTER TABLE agent_events ADD COLUMN event_key uuid;
CREATE UNIQUE INDEX agent_events_key ON agent_events (event_key);
