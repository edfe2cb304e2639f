package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// `pacer trunks add|set --transfer bridge|refer` chooses how a blind
// transfer to a number leaves the trunk; list and show say which; a bad
// value is refused naming the flag.
func TestTrunksTransferFlag(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	run := func(args ...string) (string, string, int) { return runPacer(t, dbURL, "", args...) }
	out, errOut, code := run("trunks", "add", "--name", "carrier-a", "--uri", "sip:127.0.0.1:5070", "--transfer", "refer")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "transfers by refer")
	out, errOut, code = run("trunks", "add", "--name", "carrier-b", "--uri", "sip:127.0.0.1:5080")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "transfers by bridge")

	out, _, code = run("trunks", "list")
	require.Zero(t, code)
	require.Regexp(t, `TRANSFER`, out)
	require.Regexp(t, `carrier-a\s.*\srefer\n`, out)
	require.Regexp(t, `carrier-b\s.*\sbridge\n`, out)

	_, errOut, code = run("trunks", "set", "carrier-a", "--transfer", "blind")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `--transfer: transfer_method "blind" refused: bridge`)
	out, errOut, code = run("trunks", "set", "carrier-a", "--transfer", "bridge")
	require.Zero(t, code, errOut)
	var shown campaigns.Trunk
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	require.Equal(t, campaigns.TransferBridge, shown.TransferMethod)
	out, _, code = run("trunks", "show", "carrier-a")
	require.Zero(t, code)
	require.Contains(t, out, `"transfer_method":"bridge"`)
}
