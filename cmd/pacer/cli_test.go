package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// pacerCLI runs one command of the real binary against a database and
// returns stdout, stderr and the exit code.
func pacerCLI(t *testing.T, dbURL string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(pacerBin, args...)
	cmd.Env = cleanEnv("DATABASE_URL=" + dbURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return stdout.String(), stderr.String(), code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCampaignLeadAndDNCCommands(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	out, errOut, code := pacerCLI(t, db, "campaigns", "create", "--name", "Renewals", "--mode", "power", "--ratio", "1.5", "--rules", "uk")
	require.Zero(t, code, errOut)
	var camp map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &camp))
	require.Equal(t, "power", camp["mode"])
	require.Equal(t, 1.5, camp["power_ratio"])
	require.EqualValues(t, 259200, camp["abandon_lockout_s"])

	_, errOut, code = pacerCLI(t, db, "campaigns", "set", "Renewals", "--ring-timeout-s", "10")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "ring_timeout_s: 10 s refused: US rules (TCPA) need at least 15 s of ringing (allowed 15..600 s)")

	dir := t.TempDir()
	file := filepath.Join(dir, "leads.csv")
	require.NoError(t, os.WriteFile(file, []byte("phone,first_name\n(212) 436-5000,Ann\n212.436.5000,Dup\n12,Bad\n415 555 1234,Lee\n"), 0o644))
	report := filepath.Join(dir, "errors.csv")
	out, errOut, code = pacerCLI(t, db, "leads", "import", "--campaign", "Renewals", "--file", file, "--json", "--errors", report)
	require.Zero(t, code, errOut)
	var res map[string]float64
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &res))
	require.Equal(t, map[string]float64{"rows": 4, "imported": 2, "duplicates": 1, "invalid": 1, "dnc": 0},
		map[string]float64{"rows": res["rows"], "imported": res["imported"], "duplicates": res["duplicates"], "invalid": res["invalid"], "dnc": res["dnc"]})
	csv, err := os.ReadFile(report)
	require.NoError(t, err)
	require.Contains(t, string(csv), "3,duplicate of line 2")
	require.Contains(t, string(csv), `4,"invalid phone number ""12"": too short"`)

	out, errOut, code = pacerCLI(t, db, "dnc", "add", "--number", "415-555-1234", "--campaign", "Renewals")
	require.Zero(t, code, errOut)
	require.JSONEq(t, `{"number":"+14155551234","campaign":"Renewals","changed":true}`, lastLine(out))

	out, _, code = pacerCLI(t, db, "campaigns", "list", "--json")
	require.Zero(t, code)
	require.Contains(t, out, `"name":"Renewals"`)
	_, errOut, code = pacerCLI(t, db, "campaigns", "start", "Renewals")
	require.Equal(t, 1, code, "a power campaign without caller ID does not start")
	require.Contains(t, errOut, `caller_id "" refused: UK rules (Ofcom) need a caller ID that can be called back (E.164, e.g. +12025550143) before a power campaign may start`)
	_, errOut, code = pacerCLI(t, db, "campaigns", "set", "Renewals", "--caller-id", "+442079460958",
		"--info-message", "This was Renewals calling; dial 020 7946 0958 to call back or opt out.")
	require.Zero(t, code, errOut)
	out, errOut, code = pacerCLI(t, db, "campaigns", "start", "Renewals")
	require.Zero(t, code, errOut)
	require.Contains(t, out, `"status":"active"`)

	_, errOut, code = pacerCLI(t, db, "leads", "import", "--campaign", "Nope", "--file", file)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `campaign "Nope": not found`)
}

// `pacer campaigns` refuses what the law forbids, exits non-zero and says
// which rule and what range.
func TestCampaignCommandsRefuseUnlawfulSettings(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	_, errOut, code := pacerCLI(t, db, "campaigns", "create", "--name", "Loud", "--abandon-target", "0.05")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "abandon_target 0.05 refused: US rules (TCPA) allow at most 0.03")
	_, errOut, code = pacerCLI(t, db, "campaigns", "create", "--name", "Quiet", "--mode", "predictive")
	require.Zero(t, code, errOut)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--window-start", "00:00", "--window-end", "24:00"},
			"calling window 00:00-24:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time"},
		{[]string{"--state-windows", "FL=22:00-06:00"},
			"calling window for FL 22:00-06:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time"},
		{[]string{"--connect-deadline-ms", "3000"}, "3000 ms refused: US rules (TCPA) allow at most 2000 ms"},
		{[]string{"--caller-id", "withheld"}, `"withheld" is not an E.164 number that can be called back`},
	} {
		_, errOut, code = pacerCLI(t, db, append([]string{"campaigns", "set", "Quiet"}, tc.args...)...)
		require.Equal(t, 1, code, tc.args)
		require.Contains(t, errOut, tc.want, tc.args)
	}
	_, errOut, code = pacerCLI(t, db, "campaigns", "start", "Quiet")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `caller_id "" refused: US rules (TCPA) need a caller ID that can be called back`)
	_, errOut, code = pacerCLI(t, db, "campaigns", "set", "Quiet", "--caller-id", "+12025550143")
	require.Zero(t, code, errOut)
	_, errOut, code = pacerCLI(t, db, "campaigns", "start", "Quiet")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "empty info_message refused: US rules (TCPA) need the information message")
}
