package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/migrations"
)

// subcommands dispatches `pacer GROUP VERB ...`.
func subcommands(group string, verbs map[string]command) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			names := make([]string, 0, len(verbs))
			for n := range verbs {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(stdout, "Usage: pacer %s VERB [flags]\n\nVerbs:\n", group)
			for _, n := range names {
				fmt.Fprintf(stdout, "  %-8s %s\n", n, verbs[n].summary)
			}
			if len(args) == 0 {
				return usageError{"missing verb"}
			}
			return errHelp
		}
		v, ok := verbs[args[0]]
		if !ok {
			return usageError{fmt.Sprintf("unknown verb %q", args[0])}
		}
		return v.run(ctx, args[1:], stdout, stderr)
	}
}

func campaignsCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("campaigns", map[string]command{
		"create": {"create a campaign: --name NAME --mode MODE [--setting value ...]; prints it as JSON", campaignsCreate},
		"list":   {"list campaigns [--json]", campaignsList},
		"show":   {"show one campaign as JSON: show NAME", campaignsShow},
		"set":    {"change settings: set NAME --setting value ...", campaignsSet},
		"start":  {"start dialling: start NAME", campaignStatus("start", campaigns.StatusActive)},
		"pause":  {"stop dialling new calls: pause NAME", campaignStatus("pause", campaigns.StatusPaused)},
		"assign": {"agents who may work it: assign NAME [--agents a1,a2] [--remove a3]; lists them", campaignsAssign},
	})
}

// dbCommand is the shared start of every command that works on the database:
// flags, logger, connection.
type dbCommand struct {
	fs   *flagSet
	db   dbOptions
	logs logOptions
}

func newDBCommand(name, usage string, stdout io.Writer) *dbCommand {
	c := &dbCommand{fs: newFlagSet(name, stdout)}
	c.fs.usage = usage
	c.db.register(c.fs)
	c.logs.register(c.fs)
	// CLI commands log only problems by default: their output is the answer.
	c.fs.Lookup("log-level").DefValue = "warn"
	_ = c.fs.Set("log-level", "warn")
	return c
}

// open connects and brings the schema up to date (a no-op when current), so
// every command works on a fresh database without a separate migrate step.
func (c *dbCommand) open(ctx context.Context, stderr io.Writer) (*database, error) {
	logger, err := c.logs.logger(stderr)
	if err != nil {
		return nil, err
	}
	d, err := openDatabase(ctx, c.db, logger)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Migrate(ctx, d.pool, logger); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// openCampaign opens the database and finds the named campaign; the caller
// closes the database.
func (c *dbCommand) openCampaign(ctx context.Context, stderr io.Writer, name string) (*database, campaigns.Campaign, error) {
	if name == "" {
		return nil, campaigns.Campaign{}, usageError{"campaign NAME is required"}
	}
	d, err := c.open(ctx, stderr)
	if err != nil {
		return nil, campaigns.Campaign{}, err
	}
	camp, err := campaigns.GetByName(ctx, d.pool, name)
	if err != nil {
		d.Close()
		return nil, campaigns.Campaign{}, err
	}
	return d, camp, nil
}

// takeName splits a leading positional NAME from the flags.
func takeName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// settingFlags registers one flag per campaign setting (--ring-timeout-s,
// and the short aliases --ratio, --rules) and returns a function that
// collects the ones given.
func settingFlags(fs *flagSet) func() map[string]string {
	values := map[string]*string{}
	for _, s := range campaigns.Settings() {
		name := strings.ReplaceAll(s[0], "_", "-")
		if name == "name" {
			continue
		}
		values[s[0]] = fs.String(name, "", s[1])
		fs.noEnv[name] = true
	}
	values["ratio"] = fs.String("ratio", "", "same as --power-ratio")
	fs.noEnv["ratio"] = true
	return func() map[string]string {
		out := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			key := strings.ReplaceAll(f.Name, "-", "_")
			if _, ok := values[key]; ok {
				out[key] = f.Value.String()
			} else if _, ok := values[f.Name]; ok {
				out[f.Name] = f.Value.String()
			}
		})
		return out
	}
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func campaignsCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("campaigns create", "pacer campaigns create --name NAME --mode MODE [--setting value ...]", stdout)
	name := c.fs.String("name", "", "campaign name (required)")
	c.fs.noEnv["name"] = true
	collect := settingFlags(c.fs)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usageError{"--name is required"}
	}
	settings := collect()
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	camp, err := campaigns.Create(ctx, d.pool, *name, settings)
	if err != nil {
		return err
	}
	return printJSON(stdout, camp)
}

func campaignsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("campaigns list", "pacer campaigns list [--json]", stdout)
	asJSON := c.fs.Bool("json", false, "print JSON instead of a table")
	c.fs.noEnv["json"] = true
	if err := c.fs.parse(args); err != nil {
		return err
	}
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := campaigns.List(ctx, d.pool)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []campaigns.Campaign{}
		}
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMODE\tSTATUS\tRULES\tWINDOW")
	for _, camp := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s-%s\n", camp.ID, camp.Name, camp.Mode, camp.Status, camp.Rules, camp.WindowStart, camp.WindowEnd)
	}
	return tw.Flush()
}

func campaignsShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("campaigns show", "pacer campaigns show NAME", stdout)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	d, camp, err := c.openCampaign(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	return printJSON(stdout, camp)
}

func campaignsSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("campaigns set", "pacer campaigns set NAME --setting value ...", stdout)
	newName := c.fs.String("name", "", "rename the campaign")
	c.fs.noEnv["name"] = true
	collect := settingFlags(c.fs)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	settings := collect()
	if *newName != "" {
		settings["name"] = *newName
	}
	if len(settings) == 0 {
		return usageError{"nothing to change: give at least one --setting value"}
	}
	d, camp, err := c.openCampaign(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	if camp, err = campaigns.Update(ctx, d.pool, camp.ID, settings); err != nil {
		return err
	}
	return printJSON(stdout, camp)
}

func campaignStatus(verb string, status campaigns.Status) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		name, rest := takeName(args)
		c := newDBCommand("campaigns "+verb, "pacer campaigns "+verb+" NAME", stdout)
		if err := c.fs.parse(rest); err != nil {
			return err
		}
		d, camp, err := c.openCampaign(ctx, stderr, name)
		if err != nil {
			return err
		}
		defer d.Close()
		if camp, err = campaigns.SetStatus(ctx, d.pool, camp.ID, status); err != nil {
			return err
		}
		return printJSON(stdout, camp)
	}
}
