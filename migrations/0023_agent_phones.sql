-- Agents' SIP phones (package agents; issue 13). An agent's phone is reached
-- either through a REGISTER binding (the agent's SIP password, of which only
-- the digest HA1 is kept) or through a fixed contact URI, or both: a live
-- registration wins over the fixed URI. The SIP username is the user's
-- username (users, migrations/0003_users.sql; read, never written, here).
CREATE TABLE agent_phones (
	agent_id   bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	-- HA1 = lower hex MD5(username:realm:password) (RFC 2617), never the
	-- password; it is good only in the realm stored with it.
	sip_ha1    text CHECK (sip_ha1 ~ '^[0-9a-f]{32}$'),
	sip_realm  text CHECK (sip_realm ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
	fixed_uri  text CHECK (length(fixed_uri) BETWEEN 5 AND 256 AND fixed_uri ~* '^sips?:[^[:space:][:cntrl:]]+$'),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((sip_ha1 IS NULL) = (sip_realm IS NULL)),
	-- A phone with neither is no phone: its row is deleted instead.
	CHECK (sip_ha1 IS NOT NULL OR fixed_uri IS NOT NULL)
);

-- Live REGISTER bindings. Any node reads them to call an agent's phone: the
-- INVITE goes to contact's URI, sent to source over transport (the phone may
-- be behind NAT, so where its REGISTER came from beats what its Contact says).
-- A binding past expires_at is dead whether or not it was deleted yet.
CREATE TABLE agent_registrations (
	agent_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	contact       text NOT NULL CHECK (length(contact) BETWEEN 5 AND 512 AND contact ~* '^sips?:[^[:space:][:cntrl:]]+$'),
	source_ip     inet NOT NULL,
	source_port   integer NOT NULL CHECK (source_port BETWEEN 1 AND 65535),
	transport     text NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls', 'ws', 'wss')),
	expires_at    timestamptz NOT NULL,
	-- The node whose registrar took the REGISTER.
	node_id       text NOT NULL CHECK (length(node_id) <= 128),
	user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 256 AND user_agent !~ '[[:cntrl:]]'),
	registered_at timestamptz NOT NULL,
	PRIMARY KEY (agent_id, contact),
	CHECK (expires_at > registered_at)
);
CREATE INDEX agent_registrations_expires ON agent_registrations (expires_at);

-- Changes to an agent's phone made from the console or API are recorded with
-- the other changes to the account (package web; never the SIP password).
ALTER TABLE user_events DROP CONSTRAINT user_events_action_check;
ALTER TABLE user_events ADD CONSTRAINT user_events_action_check CHECK (action IN ('create', 'disable', 'enable',
	'password_reset', 'sip_password_set', 'sip_password_clear', 'phone_uri_set', 'phone_uri_clear'));
