package web

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pacer-dialer/pacer/campaigns"
)

// parseTarget reads who the agent typed into "Transfer to": agent:<username>
// (another agent), queue:<name> (an inbound queue), or a phone number in
// the campaign's region.
func (s *Server) parseTarget(ctx context.Context, campaign int64, text string) (TransferTarget, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 100 {
		return TransferTarget{}, errors.New("an agent (agent:<username>), a queue (queue:<name>) or a number")
	}
	kind, rest, found := strings.Cut(text, ":")
	switch strings.ToLower(kind) {
	case "agent":
		if !found {
			break
		}
		u, err := GetUserByName(ctx, s.db, strings.TrimSpace(rest))
		if errors.Is(err, ErrUserNotFound) || (err == nil && (u.Role != RoleAgent || u.Disabled)) {
			return TransferTarget{}, fmt.Errorf("%q is not an agent", rest)
		}
		if err != nil {
			return TransferTarget{}, err
		}
		return TransferTarget{Kind: TargetAgent, Agent: u.ID}, nil
	case "queue":
		if !found {
			break
		}
		q := strings.ToLower(strings.TrimSpace(rest))
		if q == "" || len(q) > 32 || strings.Trim(q, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return TransferTarget{}, fmt.Errorf("queue %q must be 1-32 of a-z, 0-9, - and _", rest)
		}
		return TransferTarget{Kind: TargetQueue, Queue: q}, nil
	}
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return TransferTarget{}, err
	}
	phone, err := campaigns.NormalizePhone(text, camp.DefaultRegion)
	if err != nil {
		return TransferTarget{}, fmt.Errorf("%v (or agent:<username>, queue:<name>)", err)
	}
	return TransferTarget{Kind: TargetNumber, Number: phone}, nil
}

// targetLabel is how the workspace and the action log name a target: an
// agent by username.
func (s *Server) targetLabel(ctx context.Context, t TransferTarget) string {
	if t.Kind == TargetAgent {
		if u, err := GetUser(ctx, s.db, t.Agent); err == nil {
			return "agent:" + u.Username
		}
	}
	return t.String()
}
