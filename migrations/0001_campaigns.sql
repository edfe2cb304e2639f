-- Campaigns, their dispositions, lead lists, leads, DNC lists and the import
-- staging area. Owned by package campaigns. Compliance limits that the law
-- fixes are CHECK constraints so no code path can store a campaign that breaks
-- them (ring timeout >= 15 s, connect deadline <= 2 s, UK lock-out >= 72 h).

CREATE TABLE campaigns (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name                 text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 100),
	dial_mode            text NOT NULL DEFAULT 'predictive'
	                     CHECK (dial_mode IN ('predictive', 'power', 'preview', 'manual')),
	power_ratio          numeric(4,2) NOT NULL DEFAULT 1.0 CHECK (power_ratio >= 1 AND power_ratio <= 5),
	abandon_target       numeric(5,4) NOT NULL DEFAULT 0.03 CHECK (abandon_target > 0 AND abandon_target <= 0.05),
	rule_set             text NOT NULL DEFAULT 'us' CHECK (rule_set IN ('us', 'uk')),
	amd_false_positive   numeric(5,4) NOT NULL DEFAULT 0 CHECK (amd_false_positive >= 0 AND amd_false_positive < 1),
	abandon_lockout_s    integer NOT NULL DEFAULT 0 CHECK (abandon_lockout_s >= 0),
	ring_timeout_s       integer NOT NULL DEFAULT 25 CHECK (ring_timeout_s BETWEEN 15 AND 600),
	connect_deadline_ms  integer NOT NULL DEFAULT 2000 CHECK (connect_deadline_ms BETWEEN 100 AND 2000),
	window_start         time NOT NULL DEFAULT '08:00',
	window_end           time NOT NULL DEFAULT '21:00',
	window_note          text NOT NULL DEFAULT '',
	state_windows        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state_windows) = 'object'),
	caller_id            text NOT NULL DEFAULT '',
	info_message         text NOT NULL DEFAULT '',
	max_attempts         integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 1000),
	max_attempts_per_day integer NOT NULL DEFAULT 3 CHECK (max_attempts_per_day BETWEEN 1 AND 100),
	retry_no_answer_s    integer NOT NULL DEFAULT 3600 CHECK (retry_no_answer_s >= 0),
	retry_busy_s         integer NOT NULL DEFAULT 900 CHECK (retry_busy_s >= 0),
	retry_machine_s      integer NOT NULL DEFAULT 14400 CHECK (retry_machine_s >= 0),
	retry_abandoned_s    integer NOT NULL DEFAULT 86400 CHECK (retry_abandoned_s >= 0),
	retry_failed_s       integer NOT NULL DEFAULT 86400 CHECK (retry_failed_s >= 0),
	lead_order           text NOT NULL DEFAULT 'priority' CHECK (lead_order IN ('priority', 'random')),
	status               text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
	script               text NOT NULL DEFAULT '',
	rate_per_minute      numeric(12,6) NOT NULL DEFAULT 0 CHECK (rate_per_minute >= 0),
	default_region       text NOT NULL DEFAULT 'US' CHECK (default_region ~ '^[A-Z]{2}$'),
	wrapup_limit_s       integer NOT NULL DEFAULT 120 CHECK (wrapup_limit_s >= 0),
	wrapup_then          text NOT NULL DEFAULT 'ready' CHECK (wrapup_then IN ('ready', 'paused')),
	created_at           timestamptz NOT NULL DEFAULT now(),
	updated_at           timestamptz NOT NULL DEFAULT now(),
	CHECK (window_start < window_end),
	-- UK (Ofcom): an abandoned number may not be called again for 72 hours.
	CHECK (rule_set <> 'uk' OR abandon_lockout_s >= 259200)
);

CREATE TABLE dispositions (
	campaign_id        bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	code               text NOT NULL CHECK (code ~ '^[A-Z0-9_]{1,16}$'),
	label              text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 60),
	category           text NOT NULL CHECK (category IN ('sale', 'contact', 'callback', 'dnc',
	                       'not-interested', 'wrong-number', 'no-contact', 'machine')),
	final              boolean NOT NULL,
	-- NULL on a non-final disposition: the campaign's retry delay for the outcome applies.
	recycle_after_s    integer CHECK (recycle_after_s > 0),
	schedules_callback boolean NOT NULL DEFAULT false,
	system             boolean NOT NULL DEFAULT false,
	position           integer NOT NULL DEFAULT 0,
	PRIMARY KEY (campaign_id, code),
	CHECK (NOT final OR recycle_after_s IS NULL),
	CHECK (NOT (system AND schedules_callback))
);

CREATE TABLE lead_lists (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	name        text NOT NULL,
	format      text NOT NULL CHECK (format IN ('csv', 'tsv', 'vicidial')),
	status      text NOT NULL DEFAULT 'importing' CHECK (status IN ('importing', 'ready', 'failed')),
	bytes_total bigint NOT NULL DEFAULT 0 CHECK (bytes_total >= 0),
	bytes_read  bigint NOT NULL DEFAULT 0 CHECK (bytes_read >= 0),
	rows_read   bigint NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
	imported    bigint NOT NULL DEFAULT 0 CHECK (imported >= 0),
	duplicates  bigint NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
	invalid     bigint NOT NULL DEFAULT 0 CHECK (invalid >= 0),
	dnc         bigint NOT NULL DEFAULT 0 CHECK (dnc >= 0),
	error       text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	UNIQUE (id, campaign_id),
	CHECK ((status = 'importing') = (finished_at IS NULL)),
	CHECK (status <> 'ready' OR rows_read = imported + duplicates + invalid)
);

-- A lead's calling-window group: the set of zones its number may be in plus
-- its state (for per-state windows). The hopper decides which groups are open
-- now in Go, once per claim, instead of evaluating zones row by row.
--
-- Groups are never changed or removed, which is what keeps every lead's
-- tz_group valid; the trigger below holds that, in place of a foreign key
-- whose per-row check would cost a bulk import a third of its time.
CREATE TABLE tz_groups (
	id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	zones text[] NOT NULL CHECK (cardinality(zones) > 0),
	state text NOT NULL DEFAULT '',
	UNIQUE (zones, state)
);
CREATE FUNCTION tz_groups_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'tz_groups rows are never changed or removed: leads refer to them';
END $$;
CREATE TRIGGER tz_groups_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON tz_groups
	FOR EACH STATEMENT EXECUTE FUNCTION tz_groups_immutable();

CREATE TABLE leads (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- (list_id, campaign_id) references lead_lists (id, campaign_id): a lead
	-- belongs to its list's campaign. Checked per statement by the triggers
	-- below rather than per row, which would cost a bulk import a third of
	-- its time.
	campaign_id       bigint NOT NULL,
	list_id           bigint NOT NULL,
	line              integer NOT NULL DEFAULT 0,
	phone             text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{5,14}$'),
	alt_phone         text NOT NULL DEFAULT '',
	first_name        text NOT NULL DEFAULT '',
	last_name         text NOT NULL DEFAULT '',
	address1          text NOT NULL DEFAULT '',
	address2          text NOT NULL DEFAULT '',
	address3          text NOT NULL DEFAULT '',
	city              text NOT NULL DEFAULT '',
	state             text NOT NULL DEFAULT '',
	postal_code       text NOT NULL DEFAULT '',
	country           text NOT NULL DEFAULT '',
	email             text NOT NULL DEFAULT '',
	vendor_code       text NOT NULL DEFAULT '',
	custom            jsonb NOT NULL DEFAULT '{}',
	tz_group          integer NOT NULL, -- tz_groups (id): see the rules on tz_groups
	-- new: never tried; retry: waiting for next_attempt_at; dialing: claimed by
	-- a dialer; done: final disposition or attempts exhausted.
	status            text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'retry', 'dialing', 'done')),
	dnc               boolean NOT NULL DEFAULT false,
	priority          integer NOT NULL DEFAULT 0,
	attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	attempts_day      date,
	attempts_today    integer NOT NULL DEFAULT 0 CHECK (attempts_today >= 0),
	next_attempt_at   timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00',
	locked_until      timestamptz,
	claimed_at        timestamptz,
	claimed_by        text NOT NULL DEFAULT '',
	last_outcome      text NOT NULL DEFAULT '',
	last_disposition  text NOT NULL DEFAULT '',
	last_attempt_at   timestamptz,
	created_at        timestamptz NOT NULL DEFAULT now(),
	UNIQUE (campaign_id, phone),
	CHECK ((status = 'dialing') = (claimed_at IS NOT NULL))
);
CREATE INDEX leads_hopper_priority ON leads (campaign_id, priority DESC, next_attempt_at, id)
	WHERE status IN ('new', 'retry') AND NOT dnc;
CREATE INDEX leads_dialing ON leads (claimed_at) WHERE status = 'dialing';
CREATE INDEX leads_list ON leads (list_id, campaign_id);

-- The list reference, set-based: each inserting statement checks (and locks
-- against deletion, as a foreign key would) the distinct lists it names;
-- leads never move between lists; a deleted list takes its leads with it.
CREATE FUNCTION leads_check_list() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	missing bigint;
BEGIN
	SELECT n.list_id INTO missing
	FROM (SELECT DISTINCT list_id, campaign_id FROM new_leads) n
	LEFT JOIN LATERAL (
		SELECT 1 AS ok FROM lead_lists l WHERE l.id = n.list_id AND l.campaign_id = n.campaign_id FOR KEY SHARE
	) l ON true
	WHERE l.ok IS NULL
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'lead list % does not exist in the lead''s campaign', missing
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER leads_check_list AFTER INSERT ON leads
	REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT EXECUTE FUNCTION leads_check_list();

CREATE FUNCTION leads_stay_in_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'a lead never moves to another list or campaign' USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER leads_stay_in_list BEFORE UPDATE OF list_id, campaign_id ON leads
	FOR EACH ROW WHEN (OLD.list_id <> NEW.list_id OR OLD.campaign_id <> NEW.campaign_id)
	EXECUTE FUNCTION leads_stay_in_list();

CREATE FUNCTION lead_lists_delete_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM leads WHERE list_id IN (SELECT id FROM old_lists);
	RETURN NULL;
END $$;
CREATE TRIGGER lead_lists_delete_leads AFTER DELETE ON lead_lists
	REFERENCING OLD TABLE AS old_lists FOR EACH STATEMENT EXECUTE FUNCTION lead_lists_delete_leads();

-- campaign_id NULL: the global list.
CREATE TABLE dnc (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	campaign_id bigint REFERENCES campaigns (id) ON DELETE CASCADE,
	phone       text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{5,14}$'),
	source      text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'import', 'disposition')),
	added_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dnc_global ON dnc (phone) WHERE campaign_id IS NULL;
CREATE UNIQUE INDEX dnc_campaign ON dnc (campaign_id, phone) WHERE campaign_id IS NOT NULL;

-- Rows a lead import did not take, kept so a manager can download the report.
CREATE TABLE lead_import_rejects (
	list_id bigint NOT NULL REFERENCES lead_lists (id) ON DELETE CASCADE,
	line    integer NOT NULL,
	reason  text NOT NULL,
	raw     text NOT NULL DEFAULT '',
	PRIMARY KEY (list_id, line)
);

-- COPY target of an import: every record of the file lands here, rejected
-- ones with their reason, then set-based statements move the good rows into
-- leads and the rest into lead_import_rejects. Unlogged because it is scratch
-- space: an import runs in one transaction, so a crash leaves nothing here.
CREATE UNLOGGED TABLE lead_import_staging (
	list_id     bigint NOT NULL,
	line        integer NOT NULL,
	reject      text,
	raw         text NOT NULL DEFAULT '',
	phone       text NOT NULL DEFAULT '',
	alt_phone   text NOT NULL DEFAULT '',
	first_name  text NOT NULL DEFAULT '',
	last_name   text NOT NULL DEFAULT '',
	address1    text NOT NULL DEFAULT '',
	address2    text NOT NULL DEFAULT '',
	address3    text NOT NULL DEFAULT '',
	city        text NOT NULL DEFAULT '',
	state       text NOT NULL DEFAULT '',
	postal_code text NOT NULL DEFAULT '',
	country     text NOT NULL DEFAULT '',
	email       text NOT NULL DEFAULT '',
	vendor_code text NOT NULL DEFAULT '',
	custom      jsonb NOT NULL DEFAULT '{}',
	tz_group    integer
);
