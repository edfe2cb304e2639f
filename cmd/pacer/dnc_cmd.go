package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/pacer-dialer/pacer/campaigns"
)

func dncCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("dnc", map[string]command{
		"add":    {"put a number on the global list, or a campaign's: --number N [--campaign NAME] [--reason WHY]", dncChange(true)},
		"remove": {"take a number off a list: --number N --reason WHY [--campaign NAME]", dncChange(false)},
		"import": {"bulk-add numbers, one per line: --file PATH [--campaign NAME] [--reason WHY]", dncImport},
	})
}

// openList opens the database and resolves --campaign to a list scope (empty:
// the global list) and the region used to read numbers without a country
// code; the caller closes the database.
func (c *dbCommand) openList(ctx context.Context, stderr io.Writer, campaign string) (*database, campaigns.DNCScope, string, error) {
	if campaign != "" {
		d, camp, err := c.openCampaign(ctx, stderr, campaign)
		if err != nil {
			return nil, campaigns.DNCScope{}, "", err
		}
		return d, campaigns.DNCScope{Campaign: camp.ID}, camp.DefaultRegion, nil
	}
	d, err := c.open(ctx, stderr)
	return d, campaigns.Global, "US", err
}

// dncBy registers the flags that say who changes a list and why; the
// change is recorded as made through the CLI by --by, else the OS user.
func dncBy(c *dbCommand) func(how campaigns.DNCHow) campaigns.DNCChange {
	by := c.fs.String("by", "", "who makes the change, for the list's history; default: the OS user")
	reason := c.fs.String("reason", "", "why, for the list's history (required to remove)")
	c.fs.noEnv["by"], c.fs.noEnv["reason"] = true, true
	return func(how campaigns.DNCHow) campaigns.DNCChange {
		name := *by
		if name == "" {
			name = osUser()
		}
		return campaigns.DNCChange{How: how, By: name, Reason: *reason}
	}
}

// osUser names the person running the CLI.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

func dncChange(add bool) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := "remove"
	if add {
		verb = "add"
	}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		c := newDBCommand("dnc "+verb, "pacer dnc "+verb+" --number N [--campaign NAME] [--reason WHY] [--by NAME]", stdout)
		number := c.fs.String("number", "", "phone number (required)")
		campaign := c.fs.String("campaign", "", "campaign name; empty for the global list")
		c.fs.noEnv["number"], c.fs.noEnv["campaign"] = true, true
		changeBy := dncBy(c)
		if err := c.fs.parse(args); err != nil {
			return err
		}
		if *number == "" {
			return usageError{"--number is required"}
		}
		by := changeBy(campaigns.DNCViaCLI)
		if !add && strings.TrimSpace(by.Reason) == "" {
			return usageError{campaigns.ErrDNCReasonRequired.Error() + ": give it with --reason"}
		}
		d, scope, region, err := c.openList(ctx, stderr, *campaign)
		if err != nil {
			return err
		}
		defer d.Close()
		e164, err := campaigns.NormalizePhone(*number, region)
		if err != nil {
			return err
		}
		var n int64
		if add {
			n, err = campaigns.AddDNC(ctx, d.pool, scope, []string{e164}, by)
		} else {
			n, err = campaigns.RemoveDNC(ctx, d.pool, scope, []string{e164}, by)
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"number": e164, "campaign": *campaign, "changed": n == 1})
	}
}

func dncImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("dnc import", "pacer dnc import --file PATH [--campaign NAME] [--reason WHY] [--by NAME]", stdout)
	file := c.fs.String("file", "", "file with one number per line (first column of a CSV) (required)")
	campaign := c.fs.String("campaign", "", "campaign name; empty for the global list")
	c.fs.noEnv["file"], c.fs.noEnv["campaign"] = true, true
	changeBy := dncBy(c)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if *file == "" {
		return usageError{"--file is required"}
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	d, scope, region, err := c.openList(ctx, stderr, *campaign)
	if err != nil {
		return err
	}
	defer d.Close()
	by := changeBy(campaigns.DNCViaImport)
	if by.Reason == "" {
		by.Reason = "import of " + filepath.Base(*file)
	}
	res, err := campaigns.ImportDNC(ctx, d.pool, scope, f, region, by)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintf(stderr, "line %d: %s\n", e.Line, e.Reason)
	}
	res.Errors = nil
	return printJSON(stdout, res)
}
