-- One agent, one place (DESIGN.md §7). agent_seats holds the one campaign an
-- agent works anywhere in the cluster and the workspace (browser tab) that
-- holds it; taking the seat from another tab or campaign moves it
-- (package agents). cluster_secret is the shared secret nodes present to each
-- other on internal engine calls (package web), made by the first node.

CREATE TABLE agent_seats (
	agent_id    bigint PRIMARY KEY,
	campaign_id bigint NOT NULL CHECK (campaign_id > 0),
	tab         text NOT NULL DEFAULT '' CHECK (length(tab) <= 64),
	-- the node running the loop the agent is logged in to: their calls'
	-- requests go there, even while it drains after handing the campaign on.
	node_id     text NOT NULL DEFAULT '',
	-- the node serving the workspace that holds the seat: its presence
	-- decides when the agent's workspace is gone.
	web_node    text NOT NULL DEFAULT '',
	taken_at    timestamptz NOT NULL
);

CREATE TABLE cluster_secret (
	id     integer PRIMARY KEY CHECK (id = 1),
	secret text NOT NULL CHECK (length(secret) >= 32)
);
