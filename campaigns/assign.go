package campaigns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Agents work only the campaigns they are assigned to (table
// campaign_agents, migration 0014). An agent id is a user's id or a
// simulated agent's; this package does not know users, so callers check
// that the ids they assign name agents.

// ErrNotAssigned: the agent is not assigned to the campaign.
var ErrNotAssigned = errors.New("agent is not assigned to the campaign")

// Assignment is one agent's place on a campaign.
type Assignment struct {
	Campaign   ID        `json:"campaign_id"`
	Agent      int64     `json:"agent_id"`
	AssignedAt time.Time `json:"assigned_at"`
}

// AssignAgents assigns agents to a campaign; ones already assigned stay as
// they are. It returns the agents assigned now.
func AssignAgents(ctx context.Context, db DB, campaign ID, agents []int64) ([]int64, error) {
	if err := validAgentIDs(agents); err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `INSERT INTO campaign_agents (campaign_id, agent_id)
SELECT $1, a FROM unnest($2::bigint[]) AS a
ON CONFLICT DO NOTHING RETURNING agent_id`, campaign, agents)
	if err != nil {
		return nil, fmt.Errorf("assign agents to campaign %d: %w", campaign, notFoundCampaign(err, campaign))
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("assign agents to campaign %d: %w", campaign, notFoundCampaign(err, campaign))
	}
	slices.Sort(added)
	return added, nil
}

// UnassignAgents takes agents off a campaign and returns the ones that
// were on it. Their live session is the caller's to end.
func UnassignAgents(ctx context.Context, db DB, campaign ID, agents []int64) ([]int64, error) {
	rows, err := db.Query(ctx, `DELETE FROM campaign_agents WHERE campaign_id = $1 AND agent_id = ANY($2)
RETURNING agent_id`, campaign, agents)
	if err != nil {
		return nil, fmt.Errorf("unassign agents from campaign %d: %w", campaign, err)
	}
	removed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("unassign agents from campaign %d: %w", campaign, err)
	}
	slices.Sort(removed)
	return removed, nil
}

// SetAgents makes agents the campaign's whole assignment, in one
// transaction, and returns who was added and who removed.
func SetAgents(ctx context.Context, db TxDB, campaign ID, agents []int64) (added, removed []int64, err error) {
	if err := validAgentIDs(agents); err != nil {
		return nil, nil, err
	}
	if agents == nil {
		agents = []int64{} // NULL would match nobody, and remove nobody
	}
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM campaign_agents WHERE campaign_id = $1 AND NOT agent_id = ANY($2)
RETURNING agent_id`, campaign, agents)
		if err != nil {
			return err
		}
		if removed, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
		slices.Sort(removed)
		added, err = AssignAgents(ctx, tx, campaign, agents)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("set agents of campaign %d: %w", campaign, notFoundCampaign(err, campaign))
	}
	return added, removed, nil
}

// CampaignAgents lists a campaign's assigned agents by id.
func CampaignAgents(ctx context.Context, db DB, campaign ID) ([]Assignment, error) {
	rows, err := db.Query(ctx, `SELECT campaign_id, agent_id, assigned_at FROM campaign_agents
WHERE campaign_id = $1 ORDER BY agent_id`, campaign)
	if err != nil {
		return nil, fmt.Errorf("agents of campaign %d: %w", campaign, err)
	}
	return pgx.CollectRows(rows, scanAssignment)
}

// AgentCampaigns lists the campaigns an agent is assigned to, by id.
func AgentCampaigns(ctx context.Context, db DB, agent int64) ([]ID, error) {
	rows, err := db.Query(ctx, `SELECT campaign_id FROM campaign_agents WHERE agent_id = $1 ORDER BY campaign_id`, agent)
	if err != nil {
		return nil, fmt.Errorf("campaigns of agent %d: %w", agent, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[ID])
}

// CheckAssigned returns nil when the agent is assigned to the campaign, else
// an error wrapping ErrNotAssigned that names both.
func CheckAssigned(ctx context.Context, db DB, campaign ID, agent int64) error {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_agents WHERE campaign_id = $1 AND agent_id = $2)`,
		campaign, agent).Scan(&ok)
	if err != nil {
		return fmt.Errorf("assignment of agent %d to campaign %d: %w", agent, campaign, err)
	}
	if !ok {
		return fmt.Errorf("agent %d, campaign %d: %w", agent, campaign, ErrNotAssigned)
	}
	return nil
}

func scanAssignment(row pgx.CollectableRow) (Assignment, error) {
	var a Assignment
	err := row.Scan(&a.Campaign, &a.Agent, &a.AssignedAt)
	return a, err
}

func validAgentIDs(agents []int64) error {
	for _, a := range agents {
		if a <= 0 {
			return fmt.Errorf("agent id %d: %w", a, ErrBadAgentID)
		}
	}
	return nil
}

// ErrBadAgentID: an agent id that cannot name an agent (not positive).
var ErrBadAgentID = errors.New("not an agent id")

// notFoundCampaign turns the foreign key's refusal into ErrNotFound.
func notFoundCampaign(err error, campaign ID) error {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) && pg.SQLState() == "23503" {
		return fmt.Errorf("campaign %d: %w", campaign, ErrNotFound)
	}
	return err
}
