package dialer_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// Each ended call's row keeps the cause the carrier gave: the SIP status and
// the Q.850 cause of busy, no answer, invalid numbers and failures, normal
// clearing for a customer who hung up. An invalid number is its own final
// outcome: the lead is not dialled again.
func TestTrunkCausesReachTheCallsRow(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 400, nil)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	u := func(lo, hi float64) sim.Dist { return sim.Dist{Dist: "uniform", Min: lo, Max: hi} }
	rt := fastSim()
	rt.Outcomes = []sim.Outcome{
		{Kind: "human", P: 0.3, After: u(0.02, 0.05)},
		{Kind: "busy", P: 0.2, After: u(0.01, 0.03)},
		{Kind: "failed", P: 0.15, After: u(0.01, 0.03)},
		{Kind: "invalid", P: 0.2, After: u(0.01, 0.03)},
		{Kind: "no_answer", P: 0.15, After: u(0.02, 0.05)}, // the carrier's own timer, well inside ours
	}
	n := startNode(t, db, rt, "node-causes", c, 1, 2)
	defer n.stop()

	outcomes := []string{"busy", "failed", "invalid", "no_answer", "completed"}
	require.Eventually(t, func() bool {
		for _, o := range outcomes {
			if count(t, db, `SELECT count(*) FROM calls WHERE outcome = $1`, o) < 3 {
				return false
			}
		}
		return true
	}, 60e9, 50e6, "every outcome has happened a few times")

	for _, tc := range []struct {
		outcome string
		sip     []int
		q850    []int
	}{
		{"busy", []int{486, 600}, []int{17}},
		{"failed", []int{503, 500}, []int{34, 41}},
		{"invalid", []int{404, 484, 604}, []int{1, 28}},
		{"no_answer", []int{480, 408}, []int{19}},
	} {
		require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = $1
			AND NOT (sip_code = ANY($2) AND q850_cause = ANY($3) AND cause_text <> '')`, tc.outcome, tc.sip, tc.q850),
			"every %s call has its carrier's cause", tc.outcome)
	}
	require.Positive(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'busy' AND sip_code = 486
		AND q850_cause = 17 AND cause_text = 'busy here'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed' AND sip_code IS NULL
		AND q850_cause IS DISTINCT FROM 16`), "a connected call ends in normal clearing")
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE state <> 'ended'
		AND (sip_code IS NOT NULL OR q850_cause IS NOT NULL)`), "a cause only once the call has ended")
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls c JOIN leads l ON l.id = c.lead_id
		WHERE c.outcome = 'invalid' AND (l.status <> 'done' OR l.last_outcome <> 'invalid')
		AND c.ended_at = l.last_attempt_at`), "an invalid number is final")
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls c JOIN calls d ON d.lead_id = c.lead_id
		AND d.dialed_at > c.ended_at WHERE c.outcome = 'invalid'`), "and never dialled again")
}
