-- Dispositions keep their meaning, and do-not-call lists keep their history
-- (issue 11). Both logs belong to package campaigns; they are append-only.
-- Their campaign_id has no foreign key: the record outlives what it names.

-- The engine's codes are the engine's: a row an edit turned into an agent's
-- code becomes the engine's again (its label and category stay as edited).
UPDATE dispositions SET system = true, schedules_callback = false
WHERE code IN ('NA', 'B', 'AA', 'DROP', 'FAIL', 'AUTO') AND NOT system;
-- A dnc disposition puts the number on the list, so it always ends the lead
-- and never schedules a callback to it.
UPDATE dispositions SET final = true, recycle_after_s = NULL, schedules_callback = false
WHERE category = 'dnc' AND (NOT final OR schedules_callback);
ALTER TABLE dispositions
	ADD CONSTRAINT dispositions_engine_codes CHECK (system = (code IN ('NA', 'B', 'AA', 'DROP', 'FAIL', 'AUTO'))),
	ADD CONSTRAINT dispositions_dnc_final CHECK (category <> 'dnc' OR (final AND NOT schedules_callback));

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: rows are never changed or removed', TG_TABLE_NAME;
END $$;

-- Every change to a disposition: who, when, and the disposition before
-- (NULL when the change created it) and after.
CREATE TABLE disposition_changes (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint NOT NULL,
	code        text NOT NULL,
	at          timestamptz NOT NULL,
	-- users.id of who made the change, when a user did
	by_user     bigint,
	by_name     text NOT NULL CHECK (length(btrim(by_name)) BETWEEN 1 AND 200),
	before      jsonb CHECK (jsonb_typeof(before) = 'object'),
	after       jsonb NOT NULL CHECK (jsonb_typeof(after) = 'object')
);
CREATE INDEX disposition_changes_campaign ON disposition_changes (campaign_id, id);
CREATE TRIGGER disposition_changes_append_only BEFORE UPDATE OR DELETE ON disposition_changes
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER disposition_changes_no_truncate BEFORE TRUNCATE ON disposition_changes
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Every number that went on or came off a DNC list: when, which list
-- (campaign_id NULL: the global one), how (api, console, cli, import,
-- disposition; sql for a change made outside Pacer; earlier for a number
-- already listed when this record began), who (by_user: the user
-- or the agent; by_name: their name, the OS user of the CLI), the call of a
-- disposition, and why. A removal needs a reason.
CREATE TABLE dnc_events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL,
	action      text NOT NULL CHECK (action IN ('add', 'remove')),
	campaign_id bigint,
	phone       text NOT NULL,
	how         text NOT NULL CHECK (how IN ('api', 'console', 'cli', 'import', 'disposition', 'sql', 'earlier')),
	by_user     bigint,
	by_name     text NOT NULL CHECK (length(btrim(by_name)) BETWEEN 1 AND 200),
	call_id     bigint CHECK (call_id IS NULL OR how = 'disposition'),
	reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
	CHECK (action = 'add' OR btrim(reason) <> '')
);
CREATE INDEX dnc_events_list ON dnc_events (campaign_id, id);
CREATE INDEX dnc_events_phone ON dnc_events (phone, id);
CREATE TRIGGER dnc_events_append_only BEFORE UPDATE OR DELETE ON dnc_events
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER dnc_events_no_truncate BEFORE TRUNCATE ON dnc_events
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();
INSERT INTO dnc_events (at, action, campaign_id, phone, how, by_name, reason)
SELECT added_at, 'add', campaign_id, phone, 'earlier', 'unknown', 'listed (' || source || ') before DNC history was kept'
FROM dnc ORDER BY added_at, id;

-- The dnc table records its own changes, so no writer can skip the record.
-- Who, how and why come from settings the writer makes local to its
-- transaction (campaigns.DNCChange: pacer.dnc_how, pacer.dnc_by_user,
-- pacer.dnc_by, pacer.dnc_call, pacer.dnc_reason, pacer.dnc_at); a change
-- made without them is recorded as how 'sql' by the database user, and a
-- removal without a reason is refused, except the one a deleted campaign's
-- list takes with it.
CREATE FUNCTION dnc_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO dnc_events (at, action, campaign_id, phone, how, by_user, by_name, call_id, reason)
	SELECT coalesce(nullif(current_setting('pacer.dnc_at', true), '')::timestamptz, now()),
		CASE TG_OP WHEN 'INSERT' THEN 'add' ELSE 'remove' END,
		r.campaign_id, r.phone,
		coalesce(nullif(current_setting('pacer.dnc_how', true), ''), 'sql'),
		nullif(current_setting('pacer.dnc_by_user', true), '')::bigint,
		coalesce(nullif(current_setting('pacer.dnc_by', true), ''), session_user),
		nullif(current_setting('pacer.dnc_call', true), '')::bigint,
		coalesce(nullif(current_setting('pacer.dnc_reason', true), ''),
			CASE WHEN TG_OP = 'DELETE' AND r.campaign_id IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id) THEN 'campaign deleted' END, '')
	FROM changed r;
	RETURN NULL;
END $$;
CREATE TRIGGER dnc_record_add AFTER INSERT ON dnc
	REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dnc_record();
CREATE TRIGGER dnc_record_remove AFTER DELETE ON dnc
	REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dnc_record();
