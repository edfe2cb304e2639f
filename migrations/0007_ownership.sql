-- Ownership (DESIGN.md §7): which process is alive, and which one owns each
-- active campaign. Both are judged by the database's clock (now()), never a
-- node's, so a node whose clock is off by seconds cannot stretch a lease.

-- One row per node name. A process registers its name at start with a new
-- incarnation; the row is taken over only when the previous holder is gone
-- (expired or stopped) and its work has been recovered. Package dialer owns it.
CREATE TABLE nodes (
	id           text PRIMARY KEY CHECK (id <> '' AND length(id) <= 128),
	incarnation  uuid NOT NULL,
	http_addr    text NOT NULL DEFAULT '',
	pid          integer NOT NULL DEFAULT 0,
	started_at   timestamptz NOT NULL,
	heartbeat_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	-- set by a clean exit; a stopped node has nothing left to recover.
	stopped_at   timestamptz,
	-- set when another node (or the next life of this name) closed what
	-- this incarnation left open.
	recovered_at timestamptz,
	draining     boolean NOT NULL DEFAULT false,
	CHECK (expires_at > heartbeat_at),
	CHECK (heartbeat_at >= started_at)
);

-- Lease epochs come from one sequence, so an epoch is never reused even if a
-- lease row is deleted or edited by hand.
CREATE SEQUENCE lease_epochs;

-- One row per campaign that has ever been owned. node_id '' means released:
-- free for any node to take. Package campaigns owns it (the hopper's claims
-- are fenced by it).
CREATE TABLE campaign_leases (
	campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
	node_id     text NOT NULL,
	epoch       bigint NOT NULL CHECK (epoch > 0),
	acquired_at timestamptz NOT NULL,
	renewed_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	CHECK (expires_at >= renewed_at),
	CHECK (renewed_at >= acquired_at)
);
CREATE INDEX campaign_leases_node ON campaign_leases (node_id);

-- A call records the lease epoch it was placed under, and recovery's honest
-- ending of a dead node's calls ('node_lost') is never overwritten by a late
-- write from that node.
ALTER TABLE calls ADD COLUMN epoch bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0);

-- An agent session closed because its node died and was recovered by another
-- (node_lost), or because the agent logged in to the campaign on another node
-- before this node's logout was written (seat_moved).
ALTER TABLE agent_sessions DROP CONSTRAINT agent_sessions_end_cause_check;
ALTER TABLE agent_sessions ADD CONSTRAINT agent_sessions_end_cause_check
	CHECK (end_cause IN ('logout', 'session_lost', 'node_restart', 'node_lost', 'seat_moved'));
