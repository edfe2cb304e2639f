package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// An inbound caller is matched to leads by number: every lead, in any
// campaign, whose phone is the caller's (E.164, as leads store it), so the
// agent offered the call sees who is calling, and a returning caller can be
// offered first to the agent who last spoke with them.

// ErrNameTooLong refuses a first or last name over 200 characters.
var ErrNameTooLong = errors.New("a name is at most 200 characters")

// CallerLead is a lead whose number is an inbound caller's.
type CallerLead struct {
	Lead     LeadID `json:"lead_id"`
	Campaign ID     `json:"campaign_id"`
	Name     string `json:"name"`
	// LastAgent is the agent of the lead's last call an agent talked on (0:
	// none), and LastTalked when that call was connected.
	LastAgent  int64     `json:"last_agent_id,omitempty"`
	LastTalked time.Time `json:"-"`
}

// MaxCallerLeads bounds the leads one caller is matched to: a number shared
// by more leads than an agent could choose from is shown as the first ones.
const MaxCallerLeads = 20

// CallerLeads are the leads whose phone is the caller's number (raw, as the
// carrier sent it; normalised as a US number when it has no country code),
// most recently talked to first. A number that is no phone number matches
// nothing.
func CallerLeads(ctx context.Context, db DB, number string) ([]CallerLead, error) {
	phone, err := NormalizePhone(number, "US")
	if err != nil {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
SELECT l.id, l.campaign_id, trim(l.first_name || ' ' || l.last_name), coalesce(last.agent_id, 0), last.connected_at
FROM leads l
LEFT JOIN LATERAL (
	SELECT c.agent_id, c.connected_at FROM calls c
	WHERE c.lead_id = l.id AND c.connected_at IS NOT NULL AND c.agent_id IS NOT NULL
	ORDER BY c.connected_at DESC LIMIT 1) last ON true
WHERE l.phone = $1
ORDER BY last.connected_at DESC NULLS LAST, l.id DESC
LIMIT $2`, phone, MaxCallerLeads)
	if err != nil {
		return nil, fmt.Errorf("leads of caller %s: %w", phone, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CallerLead, error) {
		var m CallerLead
		var at *time.Time
		err := r.Scan(&m.Lead, &m.Campaign, &m.Name, &m.LastAgent, &at)
		if at != nil {
			m.LastTalked = *at
		}
		return m, err
	})
}

// LastAgent is the agent who last talked with any of the matched leads (0:
// none): the sticky agent a returning caller is offered to first.
func LastAgent(leads []CallerLead) int64 {
	var agent int64
	var at time.Time
	for _, m := range leads {
		if m.LastAgent != 0 && m.LastTalked.After(at) {
			agent, at = m.LastAgent, m.LastTalked
		}
	}
	return agent
}

// InboundLead makes an inbound caller a lead of campaign c's manual list,
// with the name the agent took down, or returns the campaign's lead with
// that number if there is one (its name is then left as it is). The caller
// rang in, so the calling window does not apply; the number must be a
// phone number.
func InboundLead(ctx context.Context, db TxDB, c *Campaign, number, first, last string, now time.Time) (LeadID, error) {
	phone, err := NormalizePhone(number, c.DefaultRegion)
	if err != nil {
		return 0, err
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if len(first) > 200 || len(last) > 200 {
		return 0, ErrNameTooLong
	}
	return manualListLead(ctx, db, c, phone, first, last, now)
}
