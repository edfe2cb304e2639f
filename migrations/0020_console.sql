-- The manager console's users page and list administration.
--
-- users.last_login_at: set at each successful login (package web), shown on
-- the users page.
-- user_events: who did what to a user account from the console or API
-- (create, disable, enable, password reset); never holds a password.
-- lead_lists.deleted_at/deleted_by: a deleted list keeps its row (name, file,
-- import counts) so that reports can still name it; its leads are deleted
-- (calls and call_actions keep their rows with lead_id set to NULL by their
-- foreign keys; the calls keep campaign, phone, outcome and disposition).
ALTER TABLE users ADD COLUMN last_login_at timestamptz;

CREATE TABLE user_events (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	action     text NOT NULL CHECK (action IN ('create', 'disable', 'enable', 'password_reset')),
	by_user    bigint,
	by_name    text NOT NULL DEFAULT '',
	at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_events_user ON user_events (user_id, at);

ALTER TABLE lead_lists ADD COLUMN deleted_at timestamptz;
ALTER TABLE lead_lists ADD COLUMN deleted_by text NOT NULL DEFAULT '';

-- A lead's callbacks, open or closed: deleting a list's leads finds them by
-- this index (callbacks_open_lead holds only the open ones).
CREATE INDEX callbacks_lead ON callbacks (lead_id);
