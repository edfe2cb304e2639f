package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pacer-dialer/pacer/campaigns"
)

func trunksCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("trunks", map[string]command{
		"add":    {"add a SIP trunk: --name NAME --uri sip:HOST[:PORT][;transport=udp|tcp] [--username U --password-stdin] [--max-channels N] [--cps N] [--caller-id-header from|pai] [--transfer bridge|refer]", trunksAdd},
		"list":   {"list trunks with their limits and the campaigns using them [--json]", trunksList},
		"show":   {"show one trunk as JSON (never its password): show NAME", trunksShow},
		"set":    {"change a trunk: set NAME [--name NEW] [--uri ...] [--username U] [--password-stdin | --no-password] [--max-channels N] [--cps N] [--caller-id-header from|pai] [--transfer bridge|refer] [--enabled=false]", trunksSet},
		"remove": {"remove a trunk no campaign uses: remove NAME", trunksRemove},
	})
}

// trunkFlags registers the flags add and set share and returns a function
// building the spec from the ones given on the command line.
func trunkFlags(c *dbCommand) func(stdin io.Reader) (campaigns.TrunkSpec, error) {
	fs := c.fs
	uri := fs.String("uri", "", "sip:HOST[:PORT][;transport=udp|tcp] (port 5060 and udp unless given)")
	username := fs.String("username", "", "digest user name the carrier gave you")
	passwordStdin := fs.Bool("password-stdin", false, "read the digest password from the first line of stdin (never from the command line)")
	noPassword := fs.Bool("no-password", false, "remove the password (set only)")
	channels := fs.Int("max-channels", campaigns.DefaultTrunkChannels, "simultaneous calls the carrier allows")
	cps := fs.Float64("cps", campaigns.DefaultTrunkCPS, "new calls per second the carrier allows (may be fractional, e.g. 0.5)")
	header := fs.String("caller-id-header", string(campaigns.CallerIDFrom), "where the caller ID goes: from (the From header) or pai (P-Asserted-Identity)")
	transfer := fs.String("transfer", string(campaigns.TransferBridge), "blind transfer to a number: bridge (a new call through the trunk, bridged to the customer) or refer (REFER: the carrier connects the customer; bridged anyway if it refuses)")
	enabled := fs.Bool("enabled", true, "whether campaigns may dial through it")
	for _, n := range []string{"name", "uri", "username", "password-stdin", "no-password", "max-channels", "cps", "caller-id-header", "transfer", "enabled"} {
		fs.noEnv[n] = true
	}
	return func(stdin io.Reader) (campaigns.TrunkSpec, error) {
		var spec campaigns.TrunkSpec
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "uri":
				spec.URI = uri
			case "username":
				spec.Username = username
			case "max-channels":
				spec.MaxChannels = channels
			case "cps":
				spec.CPS = cps
			case "caller-id-header":
				spec.CallerIDHeader = header
			case "transfer":
				spec.TransferMethod = transfer
			case "enabled":
				spec.Enabled = enabled
			}
		})
		switch {
		case *passwordStdin && *noPassword:
			return spec, usageError{"--password-stdin and --no-password contradict each other"}
		case *noPassword:
			empty := ""
			spec.Password = &empty
		case *passwordStdin:
			p, err := secretFromStdin(stdin, "password")
			if err != nil {
				return spec, err
			}
			if p == "" {
				return spec, usageError{"--password-stdin: write the password to stdin"}
			}
			spec.Password = &p
		}
		return spec, nil
	}
}

func trunksAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("trunks add", "pacer trunks add --name NAME --uri sip:HOST[:PORT][;transport=udp|tcp] [--username U --password-stdin] [flags]", stdout)
	name := c.fs.String("name", "", "trunk name (required): letters, digits, '.', '_', '-'")
	spec := trunkFlags(c)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if *name == "" || !trunkFlagGiven(c.fs, "uri") {
		return usageError{"--name and --uri are required"}
	}
	s, err := spec(os.Stdin)
	if err != nil {
		return err
	}
	s.Name = name
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := campaigns.AddTrunk(ctx, d.pool, s)
	if err != nil {
		return trunkCLIError(err)
	}
	fmt.Fprintf(stdout, "added trunk %s (id %d): %s, %d channels, %s calls/s, caller ID in %s, password %s, transfers by %s\n",
		t.Name, t.ID, t.URI, t.MaxChannels, formatCPS(t.CPS), t.CallerIDHeader, passwordState(t), t.TransferMethod)
	return nil
}

func trunkFlagGiven(fs *flagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// trunkCLIError names the flag a refused trunk setting came from.
func trunkCLIError(err error) error {
	var te *campaigns.TrunkError
	if errors.As(err, &te) && te.Field != "" && te.Field != "trunks" {
		flag := strings.ReplaceAll(te.Field, "_", "-")
		if te.Field == "transfer_method" {
			flag = "transfer"
		}
		return fmt.Errorf("--%s: %s", flag, te.Message)
	}
	return err
}

func passwordState(t campaigns.Trunk) string {
	if t.PasswordSet {
		return "set"
	}
	return "none"
}

func formatCPS(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func trunksList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("trunks list", "pacer trunks list [--json]", stdout)
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
	list, err := campaigns.ListTrunks(ctx, d.pool)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURI\tCHANNELS\tCPS\tCALLER-ID\tUSERNAME\tPASSWORD\tENABLED\tCAMPAIGNS\tTRANSFER")
	for _, t := range list {
		user := t.Username
		if user == "" {
			user = "-"
		}
		used := strings.Join(t.Campaigns, ",")
		if used == "" {
			used = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%v\t%s\t%s\n", t.Name, t.URI, t.MaxChannels, formatCPS(t.CPS),
			t.CallerIDHeader, user, passwordState(t), t.Enabled, used, t.TransferMethod)
	}
	return tw.Flush()
}

// openTrunk opens the database and finds the named trunk; the caller
// closes the database.
func (c *dbCommand) openTrunk(ctx context.Context, stderr io.Writer, name string) (*database, campaigns.Trunk, error) {
	if name == "" {
		return nil, campaigns.Trunk{}, usageError{"trunk NAME is required"}
	}
	return openFind(ctx, c, stderr, func(d *database) (campaigns.Trunk, error) {
		return campaigns.GetTrunkByName(ctx, d.pool, name)
	})
}

func trunksShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("trunks show", "pacer trunks show NAME", stdout)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	d, t, err := c.openTrunk(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	return printJSON(stdout, t)
}

func trunksSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("trunks set", "pacer trunks set NAME [--name NEW] [flags]", stdout)
	newName := c.fs.String("name", "", "rename the trunk")
	spec := trunkFlags(c)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	s, err := spec(os.Stdin)
	if err != nil {
		return err
	}
	if *newName != "" {
		s.Name = newName
	}
	if s == (campaigns.TrunkSpec{}) {
		return usageError{"nothing to change: give at least one flag (see pacer trunks set --help)"}
	}
	d, t, err := c.openTrunk(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	if t, err = campaigns.UpdateTrunk(ctx, d.pool, t.ID, s); err != nil {
		return trunkCLIError(err)
	}
	return printJSON(stdout, t)
}

func trunksRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("trunks remove", "pacer trunks remove NAME", stdout)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	d, t, err := c.openTrunk(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := campaigns.DeleteTrunk(ctx, d.pool, t.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed trunk %s\n", t.Name)
	return nil
}
