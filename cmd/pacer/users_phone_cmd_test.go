package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// An agent's SIP phone is set from the command line: the SIP password from
// stdin (only its HA1 is stored), or a fixed URI, refused when it could
// inject a header; `users show` says where Pacer will call the phone.
func TestUsersPhoneCommands(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	run := func(input string, args ...string) (string, string, int) {
		return runPacer(t, dbURL, input, args...)
	}
	_, errOut, code := run("agent-pass\n", "users", "add", "--username", "ann", "--role", "agent", "--bcrypt-cost", "4")
	require.Zero(t, code, errOut)
	_, errOut, code = run("super-pass\n", "users", "add", "--username", "sue", "--role", "supervisor", "--bcrypt-cost", "4")
	require.Zero(t, code, errOut)

	out, errOut, code := run("", "users", "show", "ann")
	require.Zero(t, code, errOut)
	require.Regexp(t, `phone:\s+none\n`, out)
	require.Regexp(t, `sip password:\s+not set`, out)

	out, errOut, code = run("desk-phone-1\n", "users", "set-sip-password", "ann")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "register the phone as user ann")
	_, errOut, code = run("short\n", "users", "set-sip-password", "ann")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "at least 8 characters")
	_, errOut, code = run("", "users", "set-sip-password", "ann")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "stdin")
	_, errOut, code = run("desk-phone-1\n", "users", "set-sip-password", "sue")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "only agents have SIP phones")
	_, errOut, code = run("desk-phone-1\n", "users", "set-sip-password", "nobody")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no user "nobody"`)

	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	var ha1 string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT sip_ha1 FROM agent_phones`).Scan(&ha1))
	require.Equal(t, agents.HA1("ann", "pacer", "desk-phone-1"), ha1)

	out, _, code = run("", "users", "show", "ann")
	require.Zero(t, code)
	require.Regexp(t, `phone:\s+none \(not registered\)`, out)
	require.Regexp(t, `sip password:\s+set \(realm pacer\)`, out)

	_, errOut, code = run("", "users", "set-phone", "ann", "sip:ann@10.0.0.5:5060\r\nX-Evil: 1")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "control characters")
	_, errOut, code = run("", "users", "set-phone", "ann", "http://10.0.0.5")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "must start with sip or sips")
	_, errOut, code = run("", "users", "set-phone", "ann")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "or --clear")
	out, errOut, code = run("", "users", "set-phone", "ann", "sip:agent1@10.0.0.5:5060")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "ann's phone is sip:agent1@10.0.0.5:5060")
	out, _, _ = run("", "users", "show", "ann")
	require.Regexp(t, `phone:\s+fixed sip:agent1@10\.0\.0\.5:5060`, out)

	// A live registration is where the phone is called, and is shown so.
	var id int64
	require.NoError(t, db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'ann'`).Scan(&id))
	now := time.Now()
	require.NoError(t, agents.SaveRegistration(context.Background(), db, agents.Registration{Agent: agents.ID(id),
		Contact: "sip:ann@192.168.1.9:5062", Source: netip.MustParseAddrPort("203.0.113.4:40000"), Transport: "udp",
		ExpiresAt: now.Add(time.Hour), Node: "n1", UserAgent: "Yealink T46U", RegisteredAt: now}))
	out, _, _ = run("", "users", "show", "ann")
	require.Regexp(t, `phone:\s+registered sip:ann@192\.168\.1\.9:5062 from 203\.0\.113\.4:40000 \(udp\) until \S+, Yealink T46U`, out)

	_, errOut, code = run("", "users", "set-sip-password", "ann", "--clear")
	require.Zero(t, code, errOut)
	out, _, _ = run("", "users", "show", "ann")
	require.Regexp(t, `phone:\s+fixed sip:agent1@10\.0\.0\.5:5060`, out, "the bindings went with the password")
	_, errOut, code = run("", "users", "set-phone", "ann", "--clear")
	require.Zero(t, code, errOut)
	out, _, _ = run("", "users", "show", "ann")
	require.Regexp(t, `phone:\s+none\n`, out)

	out, _, code = run("", "users", "show", "sue")
	require.Zero(t, code)
	require.NotContains(t, out, "phone:", "only agents have phones")
}
