package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// flagSet is a subcommand's flags; every flag falls back to a PACER_-prefixed
// environment variable when it is not on the command line.
type flagSet struct {
	*flag.FlagSet
	name   string
	stdout io.Writer
	// extraEnv lists environment names read after PACER_<FLAG>, per flag.
	extraEnv map[string][]string
	// noEnv lists flags that only the command line sets (per-call values
	// such as a campaign's settings, where an environment fallback would
	// surprise).
	noEnv map[string]bool
	// usage is the synopsis line of --help; default "pacer NAME [flags]".
	usage string
}

func newFlagSet(name string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet("pacer "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, name: name, stdout: stdout, extraEnv: map[string][]string{}, noEnv: map[string]bool{}}
}

// envName is the variable that can set a flag: --http-addr → PACER_HTTP_ADDR.
func envName(flagName string) string {
	return "PACER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads args, then the environment for every flag not given. It returns
// errHelp after printing help, or a usageError.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.printHelp()
			return errHelp
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || fs.noEnv[f.Name] {
			return
		}
		for _, env := range append([]string{envName(f.Name)}, fs.extraEnv[f.Name]...) {
			if v, ok := os.LookupEnv(env); ok && v != "" {
				if e := f.Value.Set(v); e != nil {
					err = usageError{fmt.Sprintf("invalid value %q for %s: %v", v, env, e)}
				}
				return
			}
		}
	})
	return err
}

func (fs *flagSet) printHelp() {
	usage := fs.usage
	if usage == "" {
		usage = "pacer " + fs.name + " [flags]"
	}
	fmt.Fprintf(fs.stdout, "Usage: %s\n\nFlags (environment variable in brackets):\n", usage)
	fs.VisitAll(func(f *flag.Flag) {
		envs := ""
		if !fs.noEnv[f.Name] {
			envs = " [" + strings.Join(append([]string{envName(f.Name)}, fs.extraEnv[f.Name]...), ", ") + "]"
		}
		def := ""
		if f.DefValue != "" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(fs.stdout, "  --%s%s\n        %s%s\n", f.Name, envs, f.Usage, def)
	})
}
