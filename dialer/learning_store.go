package dialer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The campaign's latest ended calls as the engine saw them. Calls cut short
// by a shutdown or closed by recovery are left out: their stamps say nothing
// about how this campaign's numbers answer.
const recentCallsSQL = `
SELECT dialed_at, ringing_at, answered_at, answered_by, connected_at, ended_at, outcome, abandoned
FROM calls
WHERE campaign_id = $1 AND state = 'ended' AND outcome IS NOT NULL AND end_cause = ''
	AND transferred_from_seq IS NULL AND direction = 'outbound'
ORDER BY dialed_at DESC
LIMIT $2`

// Each wrap-up is a call's end to its agent's next READY in the same
// session; a session that ended first has none.
const recentWrapsSQL = `
SELECT extract(epoch FROM r.at - e.at)
FROM agent_events e
JOIN LATERAL (
	SELECT at, to_state FROM agent_events r
	WHERE r.session_id = e.session_id AND r.id > e.id AND r.to_state IN ('READY', 'LOGGED_OUT')
	ORDER BY r.id LIMIT 1
) r ON true
WHERE e.campaign_id = $1 AND e.event = 'call_end' AND r.to_state = 'READY'
ORDER BY e.id DESC
LIMIT $2`

// RecentCalls implements LearningHistory over the calls table.
func (s *CallStore) RecentCalls(ctx context.Context, campaign CampaignID, n int) ([]CallRecord, error) {
	rows, err := s.q.Query(ctx, recentCallsSQL, int64(campaign), n)
	if err != nil {
		return nil, fmt.Errorf("recent calls of campaign %d: %w", campaign, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CallRecord, error) {
		var (
			dialed, ended              time.Time
			ringing, answered, connect *time.Time
			answeredBy                 *string
			outcome                    string
			rec                        = CallRecord{Campaign: campaign}
		)
		if err := r.Scan(&dialed, &ringing, &answered, &answeredBy, &connect, &ended, &outcome, &rec.Abandoned); err != nil {
			return rec, err
		}
		o, ok := parseOutcome(outcome)
		if !ok {
			return rec, fmt.Errorf("call outcome %q", outcome)
		}
		rec.Outcome = o
		rec.Stamps[CallDialing] = dialed
		rec.Stamps[CallEnded] = ended
		if ringing != nil {
			rec.Stamps[CallRinging] = *ringing
		}
		if answered != nil && answeredBy != nil {
			if *answeredBy == "human" {
				rec.Stamps[CallAnsweredHuman] = *answered
			} else {
				rec.Stamps[CallAnsweredMachine] = *answered
			}
		}
		if connect != nil {
			rec.Stamps[CallConnected] = *connect
		}
		return rec, nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent calls of campaign %d: %w", campaign, err)
	}
	slices.Reverse(out)
	return out, nil
}

// RecentWraps implements LearningHistory over the agent state log.
func (s *CallStore) RecentWraps(ctx context.Context, campaign CampaignID, n int) ([]time.Duration, error) {
	rows, err := s.q.Query(ctx, recentWrapsSQL, int64(campaign), n)
	if err != nil {
		return nil, fmt.Errorf("recent wrap-ups of campaign %d: %w", campaign, err)
	}
	secs, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return nil, fmt.Errorf("recent wrap-ups of campaign %d: %w", campaign, err)
	}
	out := make([]time.Duration, len(secs))
	for i, sec := range secs {
		out[len(secs)-1-i] = time.Duration(sec * float64(time.Second))
	}
	return out, nil
}

func parseOutcome(s string) (Outcome, bool) {
	for o := OutcomeNoAnswer; o < numOutcomes; o++ {
		if outcomeNames[o] == s {
			return o, true
		}
	}
	return OutcomeNone, false
}
