package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/web"
)

// campaignsAssign runs `pacer campaigns assign NAME [--agents a1,a2]
// [--remove a3]`: assigns and unassigns agents by username, then lists who
// is assigned (with neither flag it only lists).
func campaignsAssign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("campaigns assign", "pacer campaigns assign NAME [--agents a1,a2] [--remove a3,a4]", stdout)
	add := c.fs.String("agents", "", "usernames of agents to assign, comma-separated")
	remove := c.fs.String("remove", "", "usernames of agents to take off the campaign, comma-separated")
	c.fs.noEnv["agents"], c.fs.noEnv["remove"] = true, true
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	d, camp, err := c.openCampaign(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	toAdd, err := agentsByName(ctx, d, *add, true)
	if err != nil {
		return err
	}
	toRemove, err := agentsByName(ctx, d, *remove, false)
	if err != nil {
		return err
	}
	if _, err := campaigns.AssignAgents(ctx, d.pool, camp.ID, toAdd); err != nil {
		return err
	}
	if _, err := campaigns.UnassignAgents(ctx, d.pool, camp.ID, toRemove); err != nil {
		return err
	}
	list, err := campaigns.CampaignAgents(ctx, d.pool, camp.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "AGENTS OF %s\tID\tASSIGNED\n", camp.Name)
	for _, a := range list {
		who := fmt.Sprintf("sim-%d", a.Agent)
		if u, err := web.GetUser(ctx, d.pool, a.Agent); err == nil {
			who = u.Username
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", who, a.Agent, a.AssignedAt.UTC().Format("2006-01-02 15:04Z"))
	}
	return tw.Flush()
}

// agentsByName resolves comma-separated usernames to user ids; assigning
// needs active agents, unassigning any user.
func agentsByName(ctx context.Context, d *database, names string, active bool) ([]int64, error) {
	var ids []int64
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		u, err := web.GetUserByName(ctx, d.pool, n)
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", n, err)
		}
		if active && (u.Role != web.RoleAgent || u.Disabled) {
			return nil, fmt.Errorf("%q is not an active agent (role %s)", n, u.Role)
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// assignDemoAgents assigns the demo agents (web.DemoUsers, where they exist)
// to the demo campaign just created, so `make run` works end to end.
func assignDemoAgents(ctx context.Context, pool *pgxpool.Pool, campaign campaigns.ID) error {
	var ids []int64
	for _, d := range web.DemoUsers() {
		if u, err := web.GetUserByName(ctx, pool, d.Username); err == nil && u.Role == web.RoleAgent {
			ids = append(ids, u.ID)
		}
	}
	_, err := campaigns.AssignAgents(ctx, pool, campaign, ids)
	return err
}

// simAgentIDs are the ids of `--sim-agents n`: 1..n.
func simAgentIDs(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids
}
