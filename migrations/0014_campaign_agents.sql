-- Which agents may work which campaign, and callbacks that outlive an
-- unanswered dial (package campaigns).
--
-- An agent joins only a campaign they are assigned to; a manager assigns
-- them in the console, the API or `pacer campaigns assign`. agent_id is a user's id, or
-- a simulated agent's (1..N, reserved by users' ids starting above
-- 1,000,000), so it names no table.
CREATE TABLE campaign_agents (
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	agent_id    bigint NOT NULL CHECK (agent_id > 0),
	assigned_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (campaign_id, agent_id)
);
CREATE INDEX campaign_agents_agent ON campaign_agents (agent_id);

-- Before assignment every agent could join every campaign: an existing
-- installation keeps working as it did, each agent assigned to each campaign
-- that is not archived, until a manager narrows it.
INSERT INTO campaign_agents (campaign_id, agent_id)
SELECT c.id, u.id FROM campaigns c CROSS JOIN users u
WHERE u.role = 'agent' AND c.status <> 'archived';

-- A callback whose dial does not reach the person (busy, no answer, a
-- machine, a failure) is scheduled again for the lead's next try (retry),
-- or marked missed when the lead may not be tried again (give_up).
ALTER TABLE callback_events DROP CONSTRAINT callback_events_event_check;
ALTER TABLE callback_events ADD CONSTRAINT callback_events_event_check CHECK (event IN ('schedule', 'reschedule',
	'fall_due', 'offer', 'decline', 'dial', 'complete', 'expire', 'widen', 'cancel', 'recover', 'retry', 'give_up'));
