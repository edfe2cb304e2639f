package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/pacer-dialer/pacer/campaigns"
)

func listsCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("lists", map[string]command{
		"show":   {"a campaign's lead lists with their leads counted by where they stand: --campaign NAME", listsShow},
		"delete": {"delete a lead list's leads (refused while calls or callbacks of it are under way): --list ID", listsDelete},
	})
}

func listsShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("lists show", "pacer lists show --campaign NAME", stdout)
	campaign := c.fs.String("campaign", "", "campaign name (required)")
	c.fs.noEnv["campaign"] = true
	if err := c.fs.parse(args); err != nil {
		return err
	}
	d, camp, err := c.openCampaign(ctx, stderr, *campaign)
	if err != nil {
		return err
	}
	defer d.Close()
	ls, err := campaigns.ListsWithCounts(ctx, d.pool, camp.ID, time.Now())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(w, "ID\tNAME\tSTATUS")
	for _, k := range campaigns.LeadClasses {
		fmt.Fprintf(w, "\t%s", k)
	}
	fmt.Fprintln(w, "\tTOTAL")
	for _, l := range ls {
		status := l.Status
		if l.DeletedAt != nil {
			status = "deleted"
		}
		fmt.Fprintf(w, "%d\t%s\t%s", l.ID, l.Name, status)
		for _, k := range campaigns.LeadClasses {
			fmt.Fprintf(w, "\t%d", l.Counts[k])
		}
		fmt.Fprintf(w, "\t%d\n", l.Total)
	}
	return w.Flush()
}

func listsDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("lists delete", "pacer lists delete --list ID", stdout)
	list := c.fs.Int64("list", 0, "list id, as `pacer lists show` and the console show it (required)")
	c.fs.noEnv["list"] = true
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if *list <= 0 {
		return usageError{"--list ID is required"}
	}
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	res, err := campaigns.DeleteList(ctx, d.pool, campaigns.ListID(*list), by)
	if errors.Is(err, campaigns.ErrListBusy) {
		return fmt.Errorf("%w (nothing was deleted)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "list %d deleted: %d leads removed; their calls stay in the call records\n", res.List, res.Deleted)
	return nil
}
