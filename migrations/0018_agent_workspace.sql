-- The agent workspace's own data (package campaigns): pause codes from the
-- database instead of the page, every edit an agent makes to a lead, and
-- the external numbers agents transfer to.

-- Pause codes an agent may choose, per campaign (campaign_id NULL: every
-- campaign). billable says whether the time counts as paid work in
-- reports; limit_min is how long the pause may last before the wallboard
-- flags it (NULL: no limit). The engine's own codes (LOGIN, DND, WRAPUP)
-- are not the agent's to choose and cannot be listed.
CREATE TABLE pause_codes (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint REFERENCES campaigns (id) ON DELETE CASCADE,
	code        text NOT NULL CHECK (code ~ '^[A-Z0-9_]{1,16}$' AND code NOT IN ('LOGIN', 'DND', 'WRAPUP')),
	label       text NOT NULL CHECK (label <> '' AND length(label) <= 64),
	billable    boolean NOT NULL DEFAULT false,
	limit_min   integer CHECK (limit_min BETWEEN 1 AND 1440),
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pause_codes_global_code ON pause_codes (code) WHERE campaign_id IS NULL;
CREATE UNIQUE INDEX pause_codes_campaign_code ON pause_codes (campaign_id, code) WHERE campaign_id IS NOT NULL;

-- The codes the agent page offered before they were kept here, for every
-- campaign, so nothing changes for an existing installation.
INSERT INTO pause_codes (code, label, billable, limit_min) VALUES
	('BREAK', 'Break', false, 15),
	('LUNCH', 'Lunch', false, 60),
	('MEETING', 'Meeting', true, NULL),
	('TRAINING', 'Training', true, NULL);

-- Every change an agent made to a lead's fields: which field (a column, or
-- custom.<key> for a custom field), the value before and after, who and
-- when. Append-only. lead_id and campaign_id name no table: the log
-- outlives a lead removed with its list, as dnc_events outlive the DNC row.
CREATE TABLE lead_edits (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	lead_id     bigint NOT NULL CHECK (lead_id > 0),
	campaign_id bigint NOT NULL CHECK (campaign_id > 0),
	field       text NOT NULL CHECK (field IN ('first_name', 'last_name', 'address1', 'address2', 'address3', 'city',
		'state', 'postal_code', 'country', 'email', 'alt_phone') OR field ~ '^custom\.[^[:cntrl:]]{1,64}$'),
	before      text NOT NULL,
	after       text NOT NULL CHECK (after <> before),
	user_id     bigint NOT NULL REFERENCES users (id),
	call_seq    bigint,
	at          timestamptz NOT NULL
);
CREATE INDEX lead_edits_lead ON lead_edits (lead_id, at);
CREATE TRIGGER lead_edits_append_only BEFORE UPDATE OR DELETE ON lead_edits
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER lead_edits_no_truncate BEFORE TRUNCATE ON lead_edits
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- External numbers in the agents' transfer directory (campaign_id NULL:
-- every campaign).
CREATE TABLE transfer_numbers (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint REFERENCES campaigns (id) ON DELETE CASCADE,
	label       text NOT NULL CHECK (label <> '' AND length(label) <= 64),
	number      text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{5,14}$'),
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX transfer_numbers_global ON transfer_numbers (number) WHERE campaign_id IS NULL;
CREATE UNIQUE INDEX transfer_numbers_campaign ON transfer_numbers (campaign_id, number) WHERE campaign_id IS NOT NULL;
