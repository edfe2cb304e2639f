package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/media"
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
		"create": {"create a campaign: --name NAME --mode MODE [--setting value ...] [--trunk NAME ...] [--info-message-file msg.wav] [--hold-music-file music.wav]; prints it as JSON", campaignsCreate},
		"list":   {"list campaigns [--json]", campaignsList},
		"show":   {"show one campaign as JSON, with its trunks and recordings: show NAME", campaignsShow},
		"set":    {"change settings: set NAME --setting value ... [--trunk NAME ... | --no-trunk] [--info-message-file msg.wav] [--hold-music-file music.wav]", campaignsSet},
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
	return openFind(ctx, c, stderr, func(d *database) (campaigns.Campaign, error) {
		return campaigns.GetByName(ctx, d.pool, name)
	})
}

// openFind opens the database and finds one row in it with find; the
// caller closes the database when it is returned.
func openFind[T any](ctx context.Context, c *dbCommand, stderr io.Writer, find func(*database) (T, error)) (*database, T, error) {
	var none T
	d, err := c.open(ctx, stderr)
	if err != nil {
		return nil, none, err
	}
	v, err := find(d)
	if err != nil {
		d.Close()
		return nil, none, err
	}
	return d, v, nil
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
	carrier := carrierFlags(c.fs)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usageError{"--name is required"}
	}
	settings := collect()
	change, err := carrier()
	if err != nil {
		return err
	}
	change.Settings = settings
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	camp, err := campaigns.CreateWithChange(ctx, d.pool, *name, change)
	if err != nil {
		return err
	}
	return printCampaignChange(stdout, camp, change)
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
	trunks, err := campaigns.CampaignTrunks(ctx, d.pool, camp.ID)
	if err != nil {
		return err
	}
	recordings, err := campaigns.CampaignAudioInfos(ctx, d.pool, camp.ID)
	if err != nil {
		return err
	}
	names := []string{}
	for _, t := range trunks {
		names = append(names, t.Name)
	}
	// The campaign's settings, with its carrier beside them: trunks in
	// priority order (none: the simulated carrier) and its recordings.
	return printJSON(stdout, struct {
		campaigns.Campaign
		Trunks     []string              `json:"trunks"`
		Recordings []campaigns.AudioInfo `json:"recordings"`
	}{camp, names, recordings})
}

func campaignsSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest := takeName(args)
	c := newDBCommand("campaigns set", "pacer campaigns set NAME --setting value ...", stdout)
	newName := c.fs.String("name", "", "rename the campaign")
	c.fs.noEnv["name"] = true
	collect := settingFlags(c.fs)
	carrier := carrierFlags(c.fs)
	if err := c.fs.parse(rest); err != nil {
		return err
	}
	settings := collect()
	if *newName != "" {
		settings["name"] = *newName
	}
	change, err := carrier()
	if err != nil {
		return err
	}
	change.Settings = settings
	if len(settings) == 0 && !change.SetTrunks && len(change.Audio) == 0 {
		return usageError{"nothing to change: give at least one --setting value, --trunk or a recording"}
	}
	d, camp, err := c.openCampaign(ctx, stderr, name)
	if err != nil {
		return err
	}
	defer d.Close()
	if camp, err = campaigns.ApplyChange(ctx, d.pool, camp.ID, change); err != nil {
		return err
	}
	return printCampaignChange(stdout, camp, change)
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

// trunkList is the repeatable --trunk flag: each value may itself be a
// comma-separated list; the order given is the priority order.
type trunkList struct {
	names []string
	set   bool
}

func (l *trunkList) String() string { return strings.Join(l.names, ",") }

func (l *trunkList) Set(v string) error {
	l.set = true
	l.names = append(l.names, campaigns.ParseTrunkNames(v)...)
	return nil
}

// carrierFlags registers --trunk, --no-trunk, --info-message-file and
// --hold-music-file and returns a function that reads what they name
// (converting the recordings) into a campaigns.Change.
func carrierFlags(fs *flagSet) func() (campaigns.Change, error) {
	var trunks trunkList
	fs.Var(&trunks, "trunk", "SIP trunk to dial through (see pacer trunks list); repeat or separate by commas for failover in priority order; '' for the simulated carrier")
	noTrunk := fs.Bool("no-trunk", false, "dial the simulated carrier (no trunk)")
	info := fs.String("info-message-file", "", "WAV recording of the information message played on an abandoned call (converted to 8 kHz G.711)")
	hold := fs.String("hold-music-file", "", "WAV recording played to customers on hold (converted to 8 kHz G.711)")
	for _, n := range []string{"trunk", "no-trunk", "info-message-file", "hold-music-file"} {
		fs.noEnv[n] = true
	}
	return func() (campaigns.Change, error) {
		var ch campaigns.Change
		if *noTrunk && len(trunks.names) > 0 {
			return ch, usageError{"--trunk and --no-trunk contradict each other"}
		}
		ch.SetTrunks = trunks.set || *noTrunk
		ch.Trunks = trunks.names
		for _, f := range []struct {
			path string
			kind campaigns.AudioKind
			flag string
		}{{*info, campaigns.AudioInfoMessage, "--info-message-file"}, {*hold, campaigns.AudioHoldMusic, "--hold-music-file"}} {
			if f.path == "" {
				continue
			}
			up, err := readRecording(f.path, f.kind)
			if err != nil {
				return ch, fmt.Errorf("%s %s: %w", f.flag, f.path, err)
			}
			ch.Audio = append(ch.Audio, up)
		}
		return ch, nil
	}
}

// readRecording converts a WAV file to what a campaign stores.
func readRecording(path string, kind campaigns.AudioKind) (campaigns.AudioUpload, error) {
	f, err := os.Open(path)
	if err != nil {
		return campaigns.AudioUpload{}, err
	}
	defer f.Close()
	samples, err := media.DecodeWAV(f)
	if err != nil {
		return campaigns.AudioUpload{}, err
	}
	by := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		by = "cli (" + u.Username + ")"
	}
	return campaigns.AudioUpload{Kind: kind, PCMU: media.PCMU.Encode(nil, samples), FileName: filepath.Base(path),
		UploadedBy: by, At: time.Now()}, nil
}

// printCampaignChange prints the campaign as JSON, then a line for each
// recording stored and for the trunks when they changed.
func printCampaignChange(w io.Writer, camp campaigns.Campaign, ch campaigns.Change) error {
	if err := printJSON(w, camp); err != nil {
		return err
	}
	for _, a := range ch.Audio {
		fmt.Fprintf(w, "%s: %s, %s (8 kHz G.711)\n", a.Kind.Label(), a.FileName, formatAudioLength(len(a.PCMU)))
	}
	if ch.SetTrunks {
		if len(ch.Trunks) == 0 {
			fmt.Fprintln(w, "trunks: none (the simulated carrier)")
		} else {
			fmt.Fprintf(w, "trunks: %s (in priority order)\n", strings.Join(ch.Trunks, ", "))
		}
	}
	return nil
}

func formatAudioLength(pcmuBytes int) string {
	return fmt.Sprintf("%.1f s", float64(pcmuBytes)/campaigns.AudioBytesPerSecond)
}
