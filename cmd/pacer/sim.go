package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pacer-dialer/pacer/dialer/sim"
)

// simCommand runs `pacer sim`: the real pacing engine against the simulated
// carrier in virtual time, once per policy, and reports the results.
func simCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario file (JSON, see scenarios/README.md)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	policy := fs.String("policy", "all", "predictive, progressive, vicidial_adaptive or all; for a scenario with inbound callers blended, split, vicidial_no_dial or all")
	hours := fs.Float64("hours", 0, "override the scenario's measured hours (0 keeps it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scenario == "" {
		fs.Usage()
		return errors.New("sim: --scenario is required")
	}
	sc, err := sim.LoadScenario(*scenario)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	policies := sc.DefaultPolicies()
	if *policy != "all" {
		policies = []string{*policy}
	}
	rep, err := sim.RunAll(ctx, sc, policies, sim.Options{Hours: *hours})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}
