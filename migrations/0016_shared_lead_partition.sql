-- Small lists share one partition.
--
-- Migration 0006 gave every imported list a partition of its own. The
-- hopper's order query reads every partition of a campaign, so a campaign
-- that is sent a small list every day slowed down list by list (47 ms a
-- claim at 233 partitions). A list now keeps its own partitions only when it
-- is large (campaigns.Import decides, by how many leads it keeps); a small
-- list's leads move, when its import finishes, into leads_shared, one
-- partition for every campaign's small lists, reached through its
-- (campaign_id, ...) hopper index like leads_single.
--
-- leads_shared holds ids from 2^52 to 2^53 (lead ids stay exact as numbers
-- in the browser's JSON), taken from leads_shared_id_seq. A list's own range
-- (list << 28) stays below 2^52 while list ids stay below 2^24, which
-- lead_lists now checks.
--
-- Imports also queue: a list is 'queued' from upload until one of the
-- cluster's import slots is free, and its uploading process beats
-- queue_beat_at while it waits, so a queue entry whose process died is
-- recognised (campaigns.FailAbandonedImports).

ALTER TABLE lead_lists ADD CONSTRAINT lead_lists_id_range CHECK (id < 16777216);
ALTER TABLE lead_lists DROP CONSTRAINT lead_lists_status_check;
ALTER TABLE lead_lists ADD CONSTRAINT lead_lists_status_check
	CHECK (status IN ('queued', 'importing', 'ready', 'failed'));
ALTER TABLE lead_lists DROP CONSTRAINT lead_lists_check;
ALTER TABLE lead_lists ADD CONSTRAINT lead_lists_check CHECK ((status IN ('queued', 'importing')) = (finished_at IS NULL));
ALTER TABLE lead_lists ADD COLUMN queue_beat_at timestamptz;
CREATE INDEX lead_lists_queued ON lead_lists (id) WHERE status = 'queued';

CREATE SEQUENCE leads_shared_id_seq AS bigint MINVALUE 4503599627370496 MAXVALUE 9007199254740991 START 4503599627370496;
CREATE TABLE leads_shared PARTITION OF leads FOR VALUES FROM (4503599627370496) TO (9007199254740992);
ALTER SEQUENCE leads_shared_id_seq OWNED BY leads_shared.id;
-- Deleting a small list deletes its rows here, by this index.
CREATE INDEX leads_shared_list ON leads_shared (list_id);

-- Existing small lists (fewer than campaigns.sharedListMaxLeads leads) move
-- into leads_shared with new ids; the calls, actions and callbacks that name
-- their leads follow. Every column leads has is copied, whatever later
-- migrations add.
CREATE TEMP TABLE lead_moves (old_id bigint PRIMARY KEY, new_id bigint NOT NULL) ON COMMIT DROP;
DO $$
DECLARE
	cols text;
	moved bigint[];
	l bigint;
	part regclass;
BEGIN
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
	FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attnum > 0 AND NOT attisdropped
		AND attgenerated = '' AND attname <> 'id';
	SELECT coalesce(array_agg(ll.id ORDER BY ll.id), '{}') INTO moved FROM lead_lists ll
	WHERE EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'leads'::regclass AND c.relname ~ ('^leads_list_' || ll.id || '_[0-9]+$'))
	  AND (SELECT count(*) FROM leads WHERE id >= ll.id << 28 AND id < (ll.id + 1) << 28) < 50000;
	FOREACH l IN ARRAY moved LOOP
		INSERT INTO lead_moves (old_id, new_id)
		SELECT id, nextval('leads_shared_id_seq') FROM leads
		WHERE id >= l << 28 AND id < (l + 1) << 28 ORDER BY line, id;
	END LOOP;
	EXECUTE format('INSERT INTO leads (id, %1$s) SELECT m.new_id, %2$s FROM leads l JOIN lead_moves m ON m.old_id = l.id',
		cols, regexp_replace(cols, '([^, ]+)', 'l.\1', 'g'));
	UPDATE calls c SET lead_id = m.new_id FROM lead_moves m WHERE c.lead_id = m.old_id;
	UPDATE call_actions a SET lead_id = m.new_id FROM lead_moves m WHERE a.lead_id = m.old_id;
	UPDATE callbacks b SET lead_id = m.new_id FROM lead_moves m WHERE b.lead_id = m.old_id;
	FOREACH l IN ARRAY moved LOOP
		DELETE FROM leads WHERE id >= l << 28 AND id < (l + 1) << 28;
		FOR part IN SELECT c.oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'leads'::regclass AND c.relname ~ ('^leads_list_' || l || '_[0-9]+$') LOOP
			EXECUTE format('ALTER TABLE leads DETACH PARTITION %s', part);
			EXECUTE format('DROP TABLE %s', part);
		END LOOP;
	END LOOP;
END $$;

-- A deleted list takes its leads with it: its rows in the shared partitions,
-- found by their list index, and its own partitions, emptied (which the
-- foreign keys see) and dropped.
CREATE OR REPLACE FUNCTION lead_lists_delete_leads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	l record;
	part regclass;
BEGIN
	DELETE FROM leads_single WHERE list_id IN (SELECT id FROM old_lists);
	DELETE FROM leads_shared WHERE list_id IN (SELECT id FROM old_lists);
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
