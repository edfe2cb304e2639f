-- Real carriers (issue 13): SIP trunks, the trunks a campaign dials through,
-- and the recordings played into its calls. Package campaigns owns these
-- tables (campaigns/trunk_store.go, campaigns/audio.go).
--
-- trunks: one SIP carrier account. uri is sip:HOST[:PORT][;transport=udp|tcp]
-- (checked in Go with a message; the CHECK is the net). password is kept in
-- clear because Pacer is the digest CLIENT here: answering a carrier's 401/407
-- challenge needs the secret itself, a hash would not do. It is never
-- returned by the API, the console or the CLI listing (they say "set" or
-- "none"); protect the database and its backups accordingly. No CR, LF or NUL
-- may reach a SIP header from these columns: sipgo does no validation of its
-- own.
CREATE TABLE trunks (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name             text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	uri              text NOT NULL CHECK (uri ~ '^sip:[A-Za-z0-9.:\[\]-]+(;transport=(udp|tcp))?$' AND length(uri) <= 300),
	username         text NOT NULL DEFAULT '' CHECK (length(username) <= 128 AND username !~ '[[:cntrl:]"\\]'),
	password         text NOT NULL DEFAULT '' CHECK (length(password) <= 128 AND password !~ '[[:cntrl:]]'),
	max_channels     integer NOT NULL DEFAULT 30 CHECK (max_channels BETWEEN 1 AND 100000),
	cps              numeric(8, 2) NOT NULL DEFAULT 10 CHECK (cps > 0 AND cps <= 10000),
	caller_id_header text NOT NULL DEFAULT 'from' CHECK (caller_id_header IN ('from', 'pai')),
	enabled          boolean NOT NULL DEFAULT true,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	-- A password without a user name could never be used in a digest answer.
	CONSTRAINT trunks_password_needs_username CHECK (password = '' OR username <> '')
);

-- campaign_trunks: the trunks a campaign dials through, tried in priority
-- order (1 first); none means the simulated carrier. A trunk in use cannot
-- be deleted (RESTRICT); the store names the campaigns in its refusal.
CREATE TABLE campaign_trunks (
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	trunk_id    bigint NOT NULL REFERENCES trunks (id) ON DELETE RESTRICT,
	priority    integer NOT NULL CHECK (priority BETWEEN 1 AND 100),
	PRIMARY KEY (campaign_id, trunk_id),
	UNIQUE (campaign_id, priority)
);
CREATE INDEX campaign_trunks_trunk ON campaign_trunks (trunk_id);

-- campaign_audio: a campaign's recordings, converted at upload to 8 kHz
-- G.711 µ-law (one byte a sample, so 8 bytes a millisecond, which is where
-- duration_ms comes from); at most 5 minutes each. kind info_message is
-- played to a live answer no agent could take within the connect deadline,
-- hold_music to a customer on hold (without one, music generated in code).
CREATE TABLE campaign_audio (
	campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	kind        text NOT NULL CHECK (kind IN ('info_message', 'hold_music')),
	pcmu        bytea NOT NULL CHECK (length(pcmu) BETWEEN 1 AND 8000 * 300),
	duration_ms integer GENERATED ALWAYS AS (length(pcmu) / 8) STORED,
	file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255 AND file_name !~ '[[:cntrl:]]'),
	uploaded_by text NOT NULL CHECK (uploaded_by <> ''),
	uploaded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (campaign_id, kind)
);
