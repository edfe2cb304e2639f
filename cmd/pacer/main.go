package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	// Calling windows are judged in each lead's time zone: embed the zone
	// database so a machine without tzdata cannot make every lead uncallable.
	_ "time/tzdata"
)

// command is one `pacer NAME` subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the dialer: web workspace, API, engine and background jobs", serveCommand},
		"migrate":   {"apply database migrations (Pacer's and River's) and exit", migrateCommand},
		"sim":       {"run the pacing simulator on a scenario file (no database needed)", simCommand},
		"campaigns": {"create, list, show, change, start and pause campaigns", campaignsCommand()},
		"leads":     {"import lead lists into a campaign", leadsCommand()},
		"lists":     {"show a campaign's lead lists with counts; delete a list", listsCommand()},
		"dnc":       {"manage do-not-call lists: add, remove, import", dncCommand()},
		"trunks":    {"manage SIP trunks: add (password from stdin), list, show, set, remove", trunksCommand()},
		"users":     {"manage web users: add (password from stdin), list, disable, enable", usersCommand()},
		"psql":      {"open psql on Pacer's database (DATABASE_URL or the private cluster); extra arguments go to psql", psqlCommand},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		// After the first signal, restore default handling so a second one
		// kills a shutdown that hangs.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks mistakes in how pacer was invoked (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errHelp means help was printed on request (exit status 0).
var errHelp = errors.New("help requested")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "pacer: unknown command %q (see pacer --help)\n", name)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pacer %s: %s (see pacer %s --help)\n", name, ue.msg, name)
		return 2
	default:
		fmt.Fprintf(stderr, "pacer %s: %s\n", name, oneLine(err.Error()))
		return 1
	}
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Pacer: a predictive, power, preview and manual dialer.")
	fmt.Fprintln(w, "\nUsage: pacer COMMAND [flags]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set by an environment variable: --http-addr is")
	fmt.Fprintln(w, "PACER_HTTP_ADDR, and so on. DATABASE_URL is read as well as PACER_DATABASE_URL.")
	fmt.Fprintln(w, "Run 'pacer COMMAND --help' for a command's flags.")
}

// oneLine keeps an error to the single line an operator reads.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
