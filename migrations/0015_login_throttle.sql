-- Failed logins, shared by every node (package web), so guessing a password
-- is throttled across the cluster and not per process. A row counts one
-- client address's recent failures for one username; username '' counts the
-- address's failures for every username (password spraying). An attempt is
-- counted as it starts and given back when the password is right, so a burst
-- of parallel guesses cannot all slip in before the first is recorded.
-- A row is forgotten once it has been quiet for the throttle's memory.
CREATE TABLE login_failures (
	username        text NOT NULL CHECK (username = lower(username) AND length(username) <= 64),
	client          inet NOT NULL,
	failures        integer NOT NULL CHECK (failures >= 0),
	last_attempt_at timestamptz NOT NULL,
	PRIMARY KEY (client, username)
);
CREATE INDEX login_failures_quiet ON login_failures (last_attempt_at);
