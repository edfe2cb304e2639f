-- The reports (package reports) read calls by the instant they were dialled
-- across every campaign; calls_campaign_dialed serves one campaign only.
CREATE INDEX calls_dialed ON calls (dialed_at);
-- The dispositions report reads calls by the instant they were dispositioned.
CREATE INDEX calls_dispositioned ON calls (dispositioned_at) WHERE disposition IS NOT NULL;
-- The abandon report reads answered calls (live or machine) by the instant
-- they ended, over the range and the 30 days before it.
CREATE INDEX calls_answered_ended ON calls (ended_at) WHERE outcome IN ('completed', 'abandoned', 'machine');
