-- Compliance floors (issue 11). The law's limits become CHECKs so no code
-- path can store a campaign that breaks them, and a lead's calling-window
-- group now holds every zone and state its address and its number point to.

-- A simulated campaign dials only the simulated carrier (no real person is
-- called), so it is exempt from the floors below; the check a real trunk
-- makes (campaigns.Campaign.CheckRealCarrier) refuses it.
ALTER TABLE campaigns ADD COLUMN simulated boolean NOT NULL DEFAULT false;

-- Every HH:MM-HH:MM value of a state_windows object lies inside 08:00-21:00
-- and does not run over midnight. The values are stored in that zero-padded
-- form (campaigns.parseStateWindows), so text comparison orders them.
CREATE FUNCTION campaign_state_windows_lawful(w jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT NOT EXISTS (
		SELECT 1 FROM jsonb_each_text(w) AS e(state, hours)
		WHERE NOT (e.hours ~ '^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$'
			AND substr(e.hours, 1, 5) >= '08:00' AND substr(e.hours, 7, 5) <= '21:00'
			AND substr(e.hours, 1, 5) < substr(e.hours, 7, 5)))
$$;

-- Every call so far went to the simulated carrier (there is no real trunk
-- yet), so a campaign that breaks a floor today is marked simulated rather
-- than changed: none of its settings is lost, and simulated can only be
-- turned off once the floors hold.
UPDATE campaigns SET simulated = true
WHERE abandon_target > 0.03
   OR (rule_set = 'us' AND (window_start < '08:00' OR window_end > '21:00'
       OR NOT campaign_state_windows_lawful(state_windows)))
   OR (status = 'active' AND dial_mode IN ('predictive', 'power')
       AND (caller_id !~ '^\+[1-9][0-9]{6,14}$' OR btrim(info_message) = ''));

-- US (FCC/TCPA) and UK (Ofcom) alike: at most 3% of live answers abandoned.
ALTER TABLE campaigns ADD CONSTRAINT campaigns_abandon_floor
	CHECK (simulated OR abandon_target <= 0.03);
-- US: calls only between 08:00 and 21:00 local time; a state may be
-- stricter (FL, WA: 08:00-20:00), never looser.
ALTER TABLE campaigns ADD CONSTRAINT campaigns_us_window_floor
	CHECK (simulated OR rule_set <> 'us' OR (window_start >= '08:00' AND window_end <= '21:00'));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_us_state_window_floor
	CHECK (simulated OR rule_set <> 'us' OR campaign_state_windows_lawful(state_windows));
-- A predictive or power campaign abandons calls, so before it dials it
-- needs a caller ID that can be called back (E.164) and the information
-- message played on an abandoned call.
ALTER TABLE campaigns ADD CONSTRAINT campaigns_start_floor
	CHECK (simulated OR status <> 'active' OR dial_mode NOT IN ('predictive', 'power')
		OR (caller_id ~ '^\+[1-9][0-9]{6,14}$' AND btrim(info_message) <> ''));

-- Calling-window groups: zones and states now come from the address and the
-- number together (the window must hold in all of them). Groups made before
-- hold the address's zones only, so they are marked incomplete: the hopper
-- never opens them, and campaigns.CompleteLeadGroups (run by `pacer serve`
-- before it dials) moves their leads to complete groups. complete defaults
-- to true for the groups imports create from now on.
ALTER TABLE tz_groups ADD COLUMN states text[] NOT NULL DEFAULT '{}',
	ADD COLUMN complete boolean NOT NULL DEFAULT false;
ALTER TABLE tz_groups ALTER COLUMN complete SET DEFAULT true;
ALTER TABLE tz_groups DROP CONSTRAINT tz_groups_zones_state_key;
ALTER TABLE tz_groups ADD CONSTRAINT tz_groups_key UNIQUE (zones, states, state, complete);
