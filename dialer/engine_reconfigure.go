package dialer

import (
	"context"
	"errors"
	"fmt"
)

// Reconfigure applies a campaign's changed settings to the running engine
// without disturbing anything in flight (DESIGN.md §7, "settings apply
// live"): the next decisions use cfg and pol at once; calls already placed
// keep the CallSettings they were dialled with (caller ID, ring timeout,
// connect deadline, information message) to their end; agents stay in their
// states.
//
//   - The abandon budget keeps its history and takes the new target, window
//     and AMD false-positive share. A longer window (UK → US rules) is
//     filled from BudgetHistory beyond what the old window held.
//   - A predictive policy whose only changes are target and ring timeout
//     keeps its learned state (Predictive.Retune); any other new policy
//     replaces the old, and one that learns is seeded from the campaign's
//     history as Start does.
//   - Mode switches: leaving preview, an agent RINGING on an offer keeps it
//     until they dial or skip it; entering preview, READY agents get offers
//     at once, except as many as there are calls placed under the old mode
//     still to be answered, which wait for those answers rather than let
//     them be abandoned; manual never dials by itself, and live answers of
//     calls placed before it still go to READY agents.
//
// It paces once with the new settings before returning. An invalid cfg, or
// history that cannot be read, leaves the engine as it was.
func (e *Engine) Reconfigure(ctx context.Context, cfg Config, pol Policy) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("campaign %d engine config: %w", e.cfg.Campaign, err)
	}
	if cfg.Campaign != e.cfg.Campaign {
		return fmt.Errorf("campaign %d engine cannot take campaign %d's settings", e.cfg.Campaign, cfg.Campaign)
	}
	if cfg.Mode == ModeAuto && pol == nil {
		return errors.New("auto mode needs a pacing policy")
	}
	if cfg.Mode != ModeAuto {
		pol = nil
	}
	now := e.now()
	// The budget holds buckets since the old window's start; a longer window
	// needs the ones before it from history. Read before changing anything.
	e.budget.State(now)
	held := now.Add(-e.cfg.AbandonWindow).Truncate(budgetBucket)
	var older []BudgetBucket
	if cfg.AbandonWindow > e.cfg.AbandonWindow && e.deps.History != nil && e.started {
		hist, err := e.deps.History.BudgetHistory(ctx, e.cfg.Campaign, now.Add(-cfg.AbandonWindow))
		if err != nil {
			return fmt.Errorf("extend abandon window of campaign %d: %w", e.cfg.Campaign, err)
		}
		for _, h := range hist {
			if h.Start.Before(held) {
				older = append(older, h)
			}
		}
	}
	e.budget.Retune(cfg.AbandonTarget, cfg.AbandonWindow, cfg.AMDFalsePositive)
	e.budget.Restore(older)

	kept := false
	if old, ok := e.deps.Policy.(*Predictive); ok {
		if p, ok := pol.(*Predictive); ok && old.Retune(p.cfg) {
			pol, kept = old, true
		}
	}
	e.deps.Policy = pol
	e.obs = nil
	if o, ok := pol.(Observer); ok {
		e.obs = o
	}
	e.cfg = cfg
	if l, ok := pol.(Learner); ok && !kept && e.deps.Learning != nil && e.started {
		e.learn(ctx, l)
	}
	e.log.Info("campaign settings applied", "mode", cfg.Mode.String(), "policy", e.policyName())
	e.pace(ctx)
	return nil
}

// Policy is the pacing policy deciding now (nil in preview and manual).
func (e *Engine) Policy() Policy { return e.deps.Policy }

func (e *Engine) policyName() string {
	if e.deps.Policy == nil {
		return ""
	}
	return e.deps.Policy.Name()
}
