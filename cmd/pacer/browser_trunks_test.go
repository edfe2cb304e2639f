package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Trunks and a campaign's carrier in headless Chromium (web/e2e/trunks.mjs),
// on the real binary: a manager adds two trunks (a bad URI refused first),
// edits one, gives both to a campaign and reorders them, has a file that is not a WAV
// refused with its reason, uploads a WAV written by the script and sees its
// length and a player that loads it, and is refused removing the trunk in
// use with the campaign named. Screenshots: manage-trunks.png,
// manage-carrier.png, manage-trunks-in-use.png.
func TestBrowserTrunks(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve()()

	ctx := context.Background()
	db := b.db()
	camp, err := campaigns.Create(ctx, db, "Real carrier", map[string]string{"mode": "power",
		"caller_id": "+12025550143", "info_message": "This was Acme calling; dial +1 202 555 0143 to opt out."})
	require.NoError(t, err)

	var out struct {
		BadURIError    string   `json:"bad_uri_error"`
		PasswordCell   string   `json:"password_cell"`
		TrunkOrder     []string `json:"trunk_order"`
		BadWAVError    string   `json:"bad_wav_error"`
		RecordingInfo  string   `json:"recording_info"`
		PlayerDuration float64  `json:"player_duration"`
		RemoveError    string   `json:"remove_error"`
	}
	b.script("trunks.mjs", &out, "CAMPAIGN="+camp.Name)
	require.Equal(t, "set", out.PasswordCell)
	require.Equal(t, []string{"carrier-b", "carrier-a"}, out.TrunkOrder)
	require.Contains(t, out.BadWAVError, "not a usable WAV file: no RIFF/WAVE header")
	require.InDelta(t, 2.5, out.PlayerDuration, 0.01, "the browser plays the stored recording: 2.5 s")
	require.Equal(t, `trunk "carrier-a" is in use by campaign(s) Real carrier: take it off them first`, out.RemoveError)
	b.requireShots("manage-trunks", "manage-carrier", "manage-trunks-in-use")

	// What the clicks stored.
	trunks, err := campaigns.CampaignTrunks(ctx, db, camp.ID)
	require.NoError(t, err)
	require.Len(t, trunks, 2)
	require.Equal(t, "carrier-b", trunks[0].Name)
	require.Equal(t, 5, trunks[0].MaxChannels, "edited on the page")
	require.Equal(t, campaigns.TransferRefer, trunks[0].TransferMethod, "chosen on the page")
	a := trunks[1]
	require.Equal(t, "carrier-a", a.Name)
	require.Equal(t, "digest-secret-1", a.Password, "kept for the carrier's digest challenge")
	require.Equal(t, 12, a.MaxChannels)
	require.Equal(t, 2.5, a.CPS)
	require.Equal(t, campaigns.CallerIDPAI, a.CallerIDHeader)
	require.Equal(t, campaigns.TransferBridge, a.TransferMethod, "the default")
	msg, err := campaigns.InfoMessage(ctx, db, camp.ID)
	require.NoError(t, err)
	require.Len(t, msg.PCMU, 20000, "2.5 s at 8 kHz, one µ-law byte a sample")
	require.Equal(t, "manager", msg.UploadedBy)
	require.Equal(t, "message.wav", msg.FileName)
}
