package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// writeToneWAV writes a 16-bit mono PCM WAV of a 440 Hz tone, as an editor
// would export it, and returns its path.
func writeToneWAV(t testing.TB, dir, name string, rate int, seconds float64) string {
	t.Helper()
	frames := int(seconds * float64(rate))
	b := make([]byte, 44+2*frames)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*frames))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*frames))
	for i := range frames {
		v := int16(12000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// `pacer trunks` adds, lists, shows, changes and removes SIP trunks; the
// password comes from stdin and is never printed; a trunk a campaign uses
// cannot be removed, and the refusal names the campaign.
func TestTrunksCommand(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	run := func(input string, args ...string) (string, string, int) {
		return runPacer(t, dbURL, input, args...)
	}
	out, errOut, code := run("s3cret-digest\n", "trunks", "add", "--name", "carrier-a", "--uri", "sip:127.0.0.1:5070;transport=tcp",
		"--username", "acct42", "--password-stdin", "--max-channels", "12", "--cps", "2.5", "--caller-id-header", "pai")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "added trunk carrier-a")
	require.Contains(t, out, "12 channels, 2.5 calls/s, caller ID in pai, password set")
	require.NotContains(t, out, "s3cret")
	_, errOut, code = run("", "trunks", "add", "--name", "carrier-b", "--uri", "sip:carrier-b.example")
	require.Zero(t, code, errOut)

	out, _, code = run("", "trunks", "list")
	require.Zero(t, code)
	require.Regexp(t, `carrier-a\s+sip:127.0.0.1:5070;transport=tcp\s+12\s+2.5\s+pai\s+acct42\s+set\s+true\s+-`, out)
	require.Regexp(t, `carrier-b\s+sip:carrier-b.example\s+30\s+10\s+from\s+-\s+none\s+true\s+-`, out)
	require.NotContains(t, out, "s3cret")
	out, _, code = run("", "trunks", "show", "carrier-a")
	require.Zero(t, code)
	require.NotContains(t, out, "s3cret")
	var shown campaigns.Trunk
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	require.True(t, shown.PasswordSet)
	require.Equal(t, 12, shown.MaxChannels)

	// Refusals name the flag.
	_, errOut, code = run("", "trunks", "add", "--name", "bad", "--uri", "sip:user@host.example")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--uri: trunk URI \"sip:user@host.example\": give the carrier's host only")
	_, errOut, code = run("", "trunks", "add", "--name", "bad", "--uri", "sip:h.example", "--cps", "0")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--cps: cps 0 refused")
	_, errOut, code = run("", "trunks", "add", "--name", "bad", "--uri", "sip:h.example", "--username", "u", "--password-stdin")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "write the password to stdin")
	_, errOut, code = run("", "trunks", "add", "--name", "carrier-a", "--uri", "sip:h.example")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `a trunk named "carrier-a" already exists`)
	_, errOut, code = run("", "trunks", "add", "--uri", "sip:h.example")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--name and --uri are required")

	out, errOut, code = run("", "trunks", "set", "carrier-b", "--max-channels", "4", "--enabled=false")
	require.Zero(t, code, errOut)
	require.Contains(t, out, `"max_channels":4`)
	require.Contains(t, out, `"enabled":false`)
	_, errOut, code = run("", "trunks", "set", "carrier-b")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "nothing to change")
	_, errOut, code = run("", "trunks", "set", "nope", "--cps", "3")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `trunk "nope": not found`)

	// A campaign on both trunks, in priority order.
	_, errOut, code = run("", "campaigns", "create", "--name", "Renewals", "--mode", "preview", "--caller-id", "+12025550143",
		"--trunk", "carrier-b", "--trunk", "carrier-a")
	require.Zero(t, code, errOut)
	out, _, _ = run("", "campaigns", "show", "Renewals")
	require.Contains(t, out, `"trunks":["carrier-b","carrier-a"]`)
	_, errOut, code = run("", "trunks", "remove", "carrier-a")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `trunk "carrier-a" is in use by campaign(s) Renewals: take it off them first`)
	out, _, _ = run("", "trunks", "list")
	require.Regexp(t, `carrier-a\s.*Renewals`, out)

	out, errOut, code = run("", "campaigns", "set", "Renewals", "--trunk", "")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "trunks: none (the simulated carrier)")
	out, errOut, code = run("", "trunks", "remove", "carrier-a")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "removed trunk carrier-a")
	out, _, _ = run("", "trunks", "list", "--json")
	require.NotContains(t, out, "carrier-a")
}

// `pacer campaigns create|set` take trunks (repeated or comma-separated, in
// priority order) and WAV recordings, converted at upload with their
// length printed; a power campaign on a real trunk starts only with its
// information message, and a simulated one is refused a trunk.
func TestCampaignsTrunkAndRecordingFlags(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	run := func(args ...string) (string, string, int) {
		return runPacer(t, dbURL, "", args...)
	}
	dir := t.TempDir()
	msg := writeToneWAV(t, dir, "msg.wav", 44100, 3.5)
	music := writeToneWAV(t, dir, "music.wav", 16000, 2)
	notWAV := filepath.Join(dir, "notes.wav")
	require.NoError(t, os.WriteFile(notWAV, []byte("ID3\x04\x00 this is an mp3 renamed"), 0o600))
	for _, n := range []string{"primary", "backup"} {
		_, errOut, code := run("trunks", "add", "--name", n, "--uri", "sip:"+n+".example")
		require.Zero(t, code, errOut)
	}

	_, errOut, code := run("campaigns", "create", "--name", "Sim", "--simulated", "true", "--trunk", "primary")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `campaign "Sim" is simulated: it may dial only the simulated carrier`)

	_, errOut, code = run("campaigns", "create", "--name", "Power", "--mode", "power", "--caller-id", "+12025550143",
		"--info-message", "This was Acme calling.", "--trunk", "backup,primary", "--status", "active")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "a power campaign on a real trunk may be active only with a recorded information message")
	_, _, code = run("campaigns", "show", "Power")
	require.Equal(t, 1, code, "the refused create left nothing behind")

	_, errOut, code = run("campaigns", "create", "--name", "Power", "--mode", "power", "--caller-id", "+12025550143",
		"--info-message", "This was Acme calling.", "--trunk", "backup,primary")
	require.Zero(t, code, errOut)
	_, errOut, code = run("campaigns", "start", "Power")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "may be active only with a recorded information message")
	require.Contains(t, errOut, `pacer campaigns set "Power" --info-message-file msg.wav`)

	_, errOut, code = run("campaigns", "set", "Power", "--info-message-file", notWAV)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--info-message-file "+notWAV+": not a usable WAV file: this is an MP3 file, not a WAV")

	out, errOut, code := run("campaigns", "set", "Power", "--info-message-file", msg, "--hold-music-file", music, "--status", "active")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "information message: msg.wav, 3.5 s (8 kHz G.711)")
	require.Contains(t, out, "hold music: music.wav, 2.0 s (8 kHz G.711)")
	require.Contains(t, out, `"status":"active"`)

	out, _, _ = run("campaigns", "show", "Power")
	var shown struct {
		Trunks     []string              `json:"trunks"`
		Recordings []campaigns.AudioInfo `json:"recordings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	require.Equal(t, []string{"backup", "primary"}, shown.Trunks)
	require.Len(t, shown.Recordings, 2)
	require.Equal(t, campaigns.AudioInfoMessage, shown.Recordings[0].Kind)
	require.Equal(t, 3500, shown.Recordings[0].DurationMS)

	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	c, err := campaigns.GetByName(context.Background(), db, "Power")
	require.NoError(t, err)
	a, err := campaigns.InfoMessage(context.Background(), db, c.ID)
	require.NoError(t, err)
	require.Len(t, a.PCMU, 28000, "3.5 s at 8 kHz, one µ-law byte a sample")

	out, errOut, code = run("campaigns", "set", "Power", "--no-trunk", "--simulated", "true")
	require.Zero(t, code, errOut, "emptying the trunks first lets the campaign become simulated")
	require.Contains(t, out, "trunks: none")
	_, errOut, code = run("campaigns", "set", "Power", "--trunk", "primary", "--no-trunk")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "contradict")
	_, errOut, code = run("campaigns", "set", "Power", "--trunk", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no trunk named "nope"`)
}
