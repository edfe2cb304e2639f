-- A starting campaign loop replays its latest calls and wrap-ups into the
-- predictive pacer (dialer.CallStore.RecentCalls/RecentWraps); these keep
-- that read to the rows it needs however long the history grows.
CREATE INDEX agent_events_call_end ON agent_events (campaign_id, id) WHERE event = 'call_end';
