-- Leads are partitioned by id range, one range per imported list.
--
-- A bulk import builds its list's partition as a table of its own: COPY into
-- a fresh table with no indexes, then one sorted build of each index, then
-- ATTACH. Maintaining every index row by row, as an INSERT into one big table
-- does, cost a million-row import four fifths of its time.
--
-- A list's leads have ids (list << 28) + n, so a lookup by id goes straight
-- to its list's partition. Leads inserted one by one (not by an import) get
-- ids below 2^28 from leads_id_seq and live in leads_single.
--
-- One lead per number per campaign is no longer a unique index (an index on
-- a partitioned table must contain the partition key): imports into a
-- campaign take turns under an advisory lock and drop numbers the campaign
-- already has (campaigns.Import), and nothing else inserts leads in bulk.
-- Each list partition carries CHECK (campaign_id = c), which lets the planner
-- leave other campaigns' lists out of a campaign's queries.

DROP TABLE lead_import_staging;

ALTER TABLE calls DROP CONSTRAINT calls_lead_id_fkey;
ALTER TABLE call_actions DROP CONSTRAINT call_actions_lead_id_fkey;
ALTER TABLE callbacks DROP CONSTRAINT callbacks_lead_id_fkey;

DROP TRIGGER leads_check_list ON leads;
DROP TRIGGER leads_stay_in_list ON leads;

ALTER TABLE leads RENAME TO leads_single;
ALTER TABLE leads_single ALTER id DROP IDENTITY;
ALTER INDEX leads_pkey RENAME TO leads_single_pkey;
ALTER INDEX leads_campaign_id_phone_key RENAME TO leads_single_campaign_id_phone_key;
ALTER INDEX leads_hopper_priority RENAME TO leads_single_hopper_priority;
ALTER INDEX leads_dialing RENAME TO leads_single_dialing;
ALTER INDEX leads_list RENAME TO leads_single_list;
ALTER TABLE leads_single ADD CONSTRAINT leads_single_ids CHECK (id < 268435456);
ALTER TABLE leads_single DROP CONSTRAINT leads_phone_check;
ALTER TABLE leads_single ADD CONSTRAINT leads_phone_check CHECK (rtrim(phone, '0123456789') = '+'
	AND octet_length(phone) BETWEEN 7 AND 16 AND phone NOT LIKE '+0%');

CREATE SEQUENCE leads_id_seq AS bigint MAXVALUE 268435455;
SELECT setval('leads_id_seq', max(id)) FROM leads_single HAVING max(id) IS NOT NULL;

CREATE TABLE leads (
	id                bigint NOT NULL DEFAULT nextval('leads_id_seq'),
	campaign_id       bigint NOT NULL,
	list_id           bigint NOT NULL,
	line              integer NOT NULL DEFAULT 0,
	phone             text NOT NULL,
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
	tz_group          integer NOT NULL,
	status            text NOT NULL DEFAULT 'new',
	dnc               boolean NOT NULL DEFAULT false,
	priority          integer NOT NULL DEFAULT 0,
	attempts          integer NOT NULL DEFAULT 0,
	attempts_day      date,
	attempts_today    integer NOT NULL DEFAULT 0,
	next_attempt_at   timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00',
	locked_until      timestamptz,
	claimed_at        timestamptz,
	claimed_by        text NOT NULL DEFAULT '',
	last_outcome      text NOT NULL DEFAULT '',
	last_disposition  text NOT NULL DEFAULT '',
	last_attempt_at   timestamptz,
	created_at        timestamptz NOT NULL DEFAULT now(),
	-- The same names as leads_single's, which ATTACH matches them by.
	-- E.164, as before, without a regular expression: a million-row COPY
	-- evaluates it a million times, and this costs a third of the regex.
	CONSTRAINT leads_phone_check CHECK (rtrim(phone, '0123456789') = '+' AND octet_length(phone) BETWEEN 7 AND 16
		AND phone NOT LIKE '+0%'),
	CONSTRAINT leads_status_check CHECK (status IN ('new', 'retry', 'dialing', 'done', 'callback')),
	CONSTRAINT leads_attempts_check CHECK (attempts >= 0),
	CONSTRAINT leads_attempts_today_check CHECK (attempts_today >= 0),
	CONSTRAINT leads_check CHECK ((status = 'dialing') = (claimed_at IS NOT NULL))
) PARTITION BY RANGE (id);
ALTER SEQUENCE leads_id_seq OWNED BY leads.id;

ALTER TABLE leads ATTACH PARTITION leads_single FOR VALUES FROM (MINVALUE) TO (268435456);

ALTER TABLE leads ADD CONSTRAINT leads_pkey PRIMARY KEY (id);
CREATE INDEX leads_phone ON leads USING hash (phone);
-- The hopper's order: priority, next attempt, then oldest list first and
-- each list in file order (a list's two partitions split its lines by
-- number, so the id alone no longer follows the file).
CREATE INDEX leads_hopper_priority ON leads (campaign_id, priority DESC, next_attempt_at, list_id, line, id)
	WHERE status IN ('new', 'retry') AND NOT dnc;
DROP INDEX leads_single_hopper_priority;
CREATE INDEX leads_dialing ON leads (claimed_at) WHERE status = 'dialing';

CREATE TRIGGER leads_check_list AFTER INSERT ON leads
	REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT EXECUTE FUNCTION leads_check_list();
CREATE TRIGGER leads_stay_in_list BEFORE UPDATE OF list_id, campaign_id ON leads
	FOR EACH ROW WHEN (OLD.list_id <> NEW.list_id OR OLD.campaign_id <> NEW.campaign_id)
	EXECUTE FUNCTION leads_stay_in_list();

ALTER TABLE calls ADD CONSTRAINT calls_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE SET NULL;
ALTER TABLE call_actions ADD CONSTRAINT call_actions_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE SET NULL;
ALTER TABLE callbacks ADD CONSTRAINT callbacks_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;

-- A deleted list takes its leads with it: its partitions are emptied (which
-- the foreign keys above see) and dropped.
CREATE OR REPLACE FUNCTION lead_lists_delete_leads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	l record;
	part regclass;
BEGIN
	DELETE FROM leads_single WHERE list_id IN (SELECT id FROM old_lists);
	FOR l IN SELECT id FROM old_lists LOOP
		DELETE FROM leads WHERE id >= l.id << 28 AND id < (l.id + 1) << 28;
		FOR part IN SELECT c.oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'leads'::regclass AND c.relname ~ ('^leads_list_' || l.id || '_[0-9]+$') LOOP
			EXECUTE format('ALTER TABLE leads DETACH PARTITION %s', part);
			EXECUTE format('DROP TABLE %s', part);
		END LOOP;
	END LOOP;
	RETURN NULL;
END $$;
