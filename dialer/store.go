package dialer

import (
	"context"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Lead is what the engine needs to dial someone.
type Lead struct {
	ID     LeadID
	Number string
}

// LeadSource is the campaign's hopper as the engine sees it. The PostgreSQL
// implementation claims with FOR UPDATE SKIP LOCKED so two nodes never hold
// the same lead.
type LeadSource interface {
	// Claim reserves up to n leads for this engine and appends them to dst.
	// It returns fewer (possibly none) when the hopper is dry.
	Claim(ctx context.Context, dst []Lead, n int) ([]Lead, error)
	// Complete ends the reservation with the call's outcome.
	Complete(ctx context.Context, id LeadID, outcome Outcome) error
	// Release ends the reservation without a call (a preview Skip), making
	// the lead available again.
	Release(ctx context.Context, id LeadID) error
	// Skip ends the reservation of a preview the agent skipped: the lead
	// is available again behind the leads already due, its skip counted.
	Skip(ctx context.Context, id LeadID, agent agents.ID) error
}

// CallSink receives the call detail record of every ended call. The record
// is only valid during the call: implementations copy what they keep.
type CallSink interface {
	RecordCall(ctx context.Context, rec *CallRecord) error
}

// BudgetBucket counts live answers and abandons that ended within one bucket
// of time starting at Start.
type BudgetBucket struct {
	Start    time.Time
	Live     int64
	Abandons int64
	Machines int64 // answers the detector called machines (UK rules count a share)
}

// BudgetHistory rebuilds abandon-budget state from call history, so a
// restart or a campaign moving to another node does not reset the budget.
type BudgetHistory interface {
	BudgetHistory(ctx context.Context, campaign CampaignID, since time.Time) ([]BudgetBucket, error)
}

// LearningHistory gives a starting engine its campaign's recent calls and
// wrap-ups, so that a restart, or a campaign moving to another node, does
// not send predictive pacing back to a cold start.
type LearningHistory interface {
	// RecentCalls returns up to n of the campaign's latest ended calls,
	// oldest first.
	RecentCalls(ctx context.Context, campaign CampaignID, n int) ([]CallRecord, error)
	// RecentWraps returns up to n of its latest wrap-ups (call end back to
	// READY), oldest first.
	RecentWraps(ctx context.Context, campaign CampaignID, n int) ([]time.Duration, error)
}
