package dialer

import (
	"context"
	"errors"

	"github.com/pacer-dialer/pacer/agents"
)

// SessionLost logs the agent out, with "session lost", of every campaign
// running on this node that they are logged in to (their workspace has
// gone: agents.Presence). An open call is finished first, as at any logout.
// It reports whether the agent was logged in anywhere here.
func (m *Manager) SessionLost(ctx context.Context, id agents.ID) (bool, error) {
	var loops []*Loop
	m.loops.Range(func(_, v any) bool {
		loops = append(loops, v.(*Loop))
		return true
	})
	var errs []error
	found := false
	for _, l := range loops {
		lost, err := l.sessionLost(ctx, id)
		found = found || lost
		if err != nil && !errors.Is(err, ErrLoopStopped) {
			errs = append(errs, err)
		}
	}
	return found, errors.Join(errs...)
}

// sessionLost logs the agent out if they are logged in to this campaign.
func (l *Loop) sessionLost(ctx context.Context, id agents.ID) (bool, error) {
	lost := false
	err := l.do(ctx, func(ctx context.Context) error {
		a := l.eng.Agent(id)
		if a == nil || a.State() == agents.LoggedOut {
			return nil
		}
		lost = true
		return l.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvSessionLost})
	})
	return lost, err
}
