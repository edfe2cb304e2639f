package dialer

import (
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/campaigns"
)

// A database outage, as the engine lives through it (DESIGN.md §7): records
// are never dropped, because every write-behind path (the call journal, the
// agent state log, lead attempts) waits the outage out and blocks its callers
// rather than losing a row; and while any of them holds records it could not
// write, the campaign places no new calls, so a call placed is a call
// recorded. Calls already up carry on.

// WriteHealth is a write-behind path's cheap health signal:
// pgbatch.Writer, CallStore, agents.EventStore and HopperLeads have one.
// Healthy is false from the first failure to reach the database until a
// write succeeds again.
type WriteHealth interface {
	Healthy() bool
}

// writesHealthy reports whether every write path of the loop is healthy,
// logging when dialling pauses and when it resumes.
func (l *Loop) writesHealthy() bool {
	ok := true
	for _, w := range l.deps.Writers {
		if !w.Healthy() {
			ok = false
			break
		}
	}
	switch {
	case !ok && !l.writesDown:
		l.writesDown = true
		l.log.Error("records are waiting for the database; no new calls until they are written")
	case ok && l.writesDown:
		l.writesDown = false
		l.log.Info("records written again; dialling resumes")
	}
	return ok
}

// errWritesDown refuses a disposition at once while records wait for the
// database, rather than holding the loop for the disposition's timeout; the
// agent stays in DISPO and tries again.
var errWritesDown = fmt.Errorf("records are waiting for the database; disposition not saved yet, try again")

// dispositionSaved is a disposition found already committed when it was
// saved again: the first try's transaction committed but its reply was
// lost. The call, the lead and the agent's event are written; only the
// agent has to move on, as of At.
type dispositionSaved struct {
	Code string
	At   time.Time
}

func (e *dispositionSaved) Error() string {
	return fmt.Sprintf("disposition %s already saved at %s", e.Code, e.At.Format(time.RFC3339Nano))
}

func (e *dispositionSaved) Unwrap() error { return campaigns.ErrAlreadyDispositioned }
