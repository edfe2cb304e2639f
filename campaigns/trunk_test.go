package campaigns_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func opt[T any](v T) *T { return &v }

// A trunk's address is sip:HOST[:PORT][;transport=udp|tcp]; anything else is
// refused with the form it should have.
func TestParseTrunkURI(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want string
	}{
		{"sip:sip.carrier.example", "sip:sip.carrier.example:5060;transport=udp"},
		{"sip:sip.carrier.example:5080", "sip:sip.carrier.example:5080;transport=udp"},
		{"sip:203.0.113.7;transport=tcp", "sip:203.0.113.7:5060;transport=tcp"},
		{"sip:127.0.0.1:15060;transport=UDP", "sip:127.0.0.1:15060;transport=udp"},
		{"sip:[2001:db8::1]:5062", "sip:[2001:db8::1]:5062;transport=udp"},
		{"sip:[::1]", "sip:[::1]:5060;transport=udp"},
	}
	for _, g := range good {
		u, err := campaigns.ParseTrunkURI(g.in)
		require.NoError(t, err, g.in)
		require.Equal(t, g.want, u.String(), g.in)
	}
	u, _ := campaigns.ParseTrunkURI("sip:[::1]:7000")
	require.Equal(t, "[::1]:7000", u.HostPort())

	bad := []struct{ in, want string }{
		{"", "it must start with sip:"},
		{"carrier.example", "it must start with sip:"},
		{"sips:carrier.example", "sips (TLS) is not supported yet"},
		{"sip:user@carrier.example", "the user name goes in --username"},
		{"sip:carrier.example:0", `port "0" is not a number from 1 to 65535`},
		{"sip:carrier.example:70000", "port"},
		{"sip:carrier.example:", "port"},
		{"sip:carrier.example;transport=tls", `transport "tls" is not supported`},
		{"sip:carrier.example;lr", `unknown parameter "lr"`},
		{"sip:carrier example", "spaces and control characters"},
		{"sip:carrier.example\r\nVia: x", "spaces and control characters"},
		{"sip:bad_host!", "is not a host name or IP address"},
		{"sip:[2001:db8::1", "unclosed ["},
		{"sip:[10.0.0.1]", "is not an IPv6 address"},
		{"sip:", "is not a host name"},
	}
	for _, b := range bad {
		_, err := campaigns.ParseTrunkURI(b.in)
		require.ErrorContains(t, err, b.want, b.in)
		require.ErrorContains(t, err, "expected sip:HOST[:PORT][;transport=udp|tcp]", b.in)
	}
}

// Adding a trunk fills the defaults; every field is checked with a message
// naming it, and nothing that would break a SIP header gets stored.
func TestAddTrunkDefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	tr, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier-a"), URI: opt("sip:127.0.0.1:5070")})
	require.NoError(t, err)
	require.Equal(t, 30, tr.MaxChannels)
	require.Equal(t, 10.0, tr.CPS)
	require.Equal(t, campaigns.CallerIDFrom, tr.CallerIDHeader)
	require.True(t, tr.Enabled)
	require.False(t, tr.PasswordSet)
	require.Empty(t, tr.Campaigns)

	_, err = campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier-a"), URI: opt("sip:127.0.0.1")})
	requireTrunkError(t, err, "name", `a trunk named "carrier-a" already exists`)

	cases := []struct {
		spec  campaigns.TrunkSpec
		field string
		msg   string
	}{
		{campaigns.TrunkSpec{URI: opt("sip:x.example")}, "name", "a trunk needs a name"},
		{campaigns.TrunkSpec{Name: opt("b")}, "uri", "a trunk needs a URI"},
		{campaigns.TrunkSpec{Name: opt("has space"), URI: opt("sip:x.example")}, "name", `trunk name "has space" refused`},
		{campaigns.TrunkSpec{Name: opt("a,b"), URI: opt("sip:x.example")}, "name", "refused"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("tel:+123")}, "uri", "it must start with sip:"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), Username: opt("u\r\nX-Evil: 1")}, "username", "must not contain control characters"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), Username: opt(`u"x`)}, "username", `must not contain " or \`},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), Username: opt("u"), Password: opt("p\x00w")}, "password", "control characters"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), Password: opt("secret")}, "username", "a password needs a username"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), MaxChannels: opt(0)}, "max_channels", "max_channels 0 refused"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), CPS: opt(0.0)}, "cps", "cps 0 refused"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), CPS: opt(-2.0)}, "cps", "cps -2 refused"},
		{campaigns.TrunkSpec{Name: opt("b"), URI: opt("sip:x.example"), CallerIDHeader: opt("rpid")}, "caller_id_header", `caller_id_header "rpid" refused: from or pai`},
	}
	for _, c := range cases {
		_, err := campaigns.AddTrunk(ctx, db, c.spec)
		requireTrunkError(t, err, c.field, c.msg)
	}
	list, err := campaigns.ListTrunks(ctx, db)
	require.NoError(t, err)
	require.Len(t, list, 1, "nothing refused was stored")

	// The database holds the same rules for a writer that skips the Go checks.
	_, err = db.Exec(ctx, `INSERT INTO trunks (name, uri, username) VALUES ('raw', 'sip:x.example', E'a\r\nb')`)
	require.ErrorContains(t, err, "trunks_username_check")
	_, err = db.Exec(ctx, `INSERT INTO trunks (name, uri, cps) VALUES ('raw', 'sip:x.example', 0)`)
	require.ErrorContains(t, err, "trunks_cps_check")
	_, err = db.Exec(ctx, `INSERT INTO trunks (name, uri, password) VALUES ('raw', 'sip:x.example', 'p')`)
	require.ErrorContains(t, err, "trunks_password_needs_username")
}

func requireTrunkError(t *testing.T, err error, field, msg string) {
	t.Helper()
	var te *campaigns.TrunkError
	require.True(t, errors.As(err, &te), "%v is a *TrunkError", err)
	require.Equal(t, field, te.Field, err.Error())
	require.ErrorContains(t, err, msg)
	require.ErrorIs(t, err, campaigns.ErrInputInvalid)
}

// A trunk's password is kept for the SIP layer's digest answers but never
// leaves in JSON; changing other fields keeps it, an empty one removes it.
func TestTrunkPasswordNeverSerialized(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	tr, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("c"), URI: opt("sip:c.example"),
		Username: opt("acct"), Password: opt("hunter2-secret"), CPS: opt(2.5), CallerIDHeader: opt("PAI")})
	require.NoError(t, err)
	require.Equal(t, "hunter2-secret", tr.Password)
	require.True(t, tr.PasswordSet)
	require.Equal(t, campaigns.CallerIDPAI, tr.CallerIDHeader)
	require.Equal(t, 2.5, tr.CPS)
	b, err := jsonOf(tr)
	require.NoError(t, err)
	require.NotContains(t, b, "hunter2")
	require.Contains(t, b, `"password_set":true`)

	tr, err = campaigns.UpdateTrunk(ctx, db, tr.ID, campaigns.TrunkSpec{MaxChannels: opt(5), Enabled: opt(false)})
	require.NoError(t, err)
	require.Equal(t, "hunter2-secret", tr.Password, "other changes keep the password")
	require.Equal(t, 5, tr.MaxChannels)
	require.False(t, tr.Enabled)
	tr, err = campaigns.UpdateTrunk(ctx, db, tr.ID, campaigns.TrunkSpec{Password: opt("")})
	require.NoError(t, err)
	require.False(t, tr.PasswordSet)

	_, err = campaigns.UpdateTrunk(ctx, db, tr.ID+1000, campaigns.TrunkSpec{MaxChannels: opt(5)})
	require.ErrorIs(t, err, campaigns.ErrNotFound)
	_, err = campaigns.GetTrunkByName(ctx, db, "nope")
	require.ErrorIs(t, err, campaigns.ErrNotFound)
}

// realCampaign is a power campaign that holds the law's floors, in draft.
func realCampaign(t *testing.T, db *pgxpool.Pool, name string, settings map[string]string) campaigns.Campaign {
	t.Helper()
	s := map[string]string{"mode": "power", "caller_id": "+12025550143",
		"info_message": "This was Pacer Test calling; dial +1 202 555 0143 to opt out."}
	for k, v := range settings {
		s[k] = v
	}
	c, err := campaigns.Create(context.Background(), db, name, s)
	require.NoError(t, err)
	return c
}

func upload(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign, kind campaigns.AudioKind, seconds int) campaigns.AudioInfo {
	t.Helper()
	info, err := campaigns.SaveCampaignAudio(context.Background(), db, campaigns.AudioUpload{Campaign: c.ID, Kind: kind,
		PCMU: make([]byte, seconds*campaigns.AudioBytesPerSecond), FileName: "C:\\recordings\\msg.wav", UploadedBy: "manager",
		At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return info
}

// A campaign dials its trunks in the order given; the trunks it uses cannot
// be removed, and the refusal names the campaigns.
func TestCampaignTrunksInOrderAndInUseRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	for _, n := range []string{"primary", "backup", "spare"} {
		_, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt(n), URI: opt("sip:" + n + ".example")})
		require.NoError(t, err)
	}
	a := realCampaign(t, db, "Renewals", nil)
	b := realCampaign(t, db, "Winback", nil)
	got, err := campaigns.SetCampaignTrunks(ctx, db, a.ID, []string{"backup", "primary"})
	require.NoError(t, err)
	require.Equal(t, []string{"backup", "primary"}, trunkNames(got))
	_, err = campaigns.SetCampaignTrunks(ctx, db, b.ID, campaigns.ParseTrunkNames("primary"))
	require.NoError(t, err)
	got, err = campaigns.CampaignTrunks(ctx, db, a.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"backup", "primary"}, trunkNames(got))

	primary, err := campaigns.GetTrunkByName(ctx, db, "primary")
	require.NoError(t, err)
	require.Equal(t, []string{"Renewals", "Winback"}, primary.Campaigns)

	// A change to a trunk shows on the campaigns dialling through it.
	before, err := campaigns.Get(ctx, db, b.ID)
	require.NoError(t, err)
	_, err = campaigns.UpdateTrunk(ctx, db, primary.ID, campaigns.TrunkSpec{CPS: opt(3.0)})
	require.NoError(t, err)
	after, err := campaigns.Get(ctx, db, b.ID)
	require.NoError(t, err)
	require.True(t, after.UpdatedAt.After(before.UpdatedAt), "updated_at moves with the trunk")
	err = campaigns.DeleteTrunk(ctx, db, primary.ID)
	require.ErrorIs(t, err, campaigns.ErrTrunkInUse)
	require.EqualError(t, err, `trunk "primary" is in use by campaign(s) Renewals, Winback: take it off them first`)

	_, err = campaigns.SetCampaignTrunks(ctx, db, a.ID, []string{"nope"})
	requireTrunkError(t, err, "trunks", `no trunk named "nope"`)
	_, err = campaigns.SetCampaignTrunks(ctx, db, a.ID, []string{"spare", "spare"})
	requireTrunkError(t, err, "trunks", `trunk "spare" is listed twice`)
	got, _ = campaigns.CampaignTrunks(ctx, db, a.ID)
	require.Equal(t, []string{"backup", "primary"}, trunkNames(got), "a refused change changes nothing")

	// Back to the simulated carrier: the trunk is free to go.
	_, err = campaigns.SetCampaignTrunks(ctx, db, a.ID, campaigns.ParseTrunkNames(""))
	require.NoError(t, err)
	_, err = campaigns.SetCampaignTrunks(ctx, db, b.ID, nil)
	require.NoError(t, err)
	require.NoError(t, campaigns.DeleteTrunk(ctx, db, primary.ID))
	_, err = campaigns.GetTrunk(ctx, db, primary.ID)
	require.ErrorIs(t, err, campaigns.ErrNotFound)
	require.ErrorIs(t, campaigns.DeleteTrunk(ctx, db, primary.ID), campaigns.ErrNotFound)
}

func trunkNames(ts []campaigns.Trunk) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// A simulated campaign is refused a real trunk, and a campaign on a real
// trunk cannot become simulated.
func TestSimulatedCampaignRefusedARealTrunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	_, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier"), URI: opt("sip:carrier.example")})
	require.NoError(t, err)
	sim := realCampaign(t, db, "Sim", map[string]string{"simulated": "true"})
	_, err = campaigns.SetCampaignTrunks(ctx, db, sim.ID, []string{"carrier"})
	require.ErrorContains(t, err, `campaign "Sim" is simulated: it may dial only the simulated carrier`)
	require.Equal(t, "simulated", campaigns.FieldOf(err))

	real := realCampaign(t, db, "Real", nil)
	_, err = campaigns.SetCampaignTrunks(ctx, db, real.ID, []string{"carrier"})
	require.NoError(t, err)
	_, err = campaigns.Update(ctx, db, real.ID, map[string]string{"simulated": "true"})
	require.ErrorContains(t, err, `campaign "Real" is simulated`)
}

// A predictive or power campaign on a real trunk starts only with its
// information message recorded; once active, the message cannot be removed,
// and a trunk cannot be given to an active campaign that has none. Preview
// and manual campaigns, and any campaign on the simulated carrier, need no
// recording.
func TestRealTrunkCampaignStartsOnlyWithRecordedInfoMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	_, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier"), URI: opt("sip:carrier.example")})
	require.NoError(t, err)

	for _, mode := range []string{"power", "predictive"} {
		c := realCampaign(t, db, "Real "+mode, map[string]string{"mode": mode})
		_, err = campaigns.SetCampaignTrunks(ctx, db, c.ID, []string{"carrier"})
		require.NoError(t, err, "a draft campaign may be given a trunk before its message is recorded")
		_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
		require.ErrorContains(t, err, `campaign "Real `+mode+`" dials through trunk carrier: a `+mode+` campaign on a real trunk may be active only with a recorded information message`)
		require.Equal(t, "info_message_audio", campaigns.FieldOf(err))
		_, err = campaigns.Create(ctx, db, "Born active "+mode, map[string]string{"mode": mode, "status": "active",
			"caller_id": "+12025550143", "info_message": "x"})
		require.NoError(t, err, "a new campaign has no trunk yet, so the simulated carrier rules")

		hold := upload(t, db, c, campaigns.AudioHoldMusic, 3)
		require.Equal(t, 3000, hold.DurationMS)
		_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
		require.Error(t, err, "hold music is not the information message")

		info := upload(t, db, c, campaigns.AudioInfoMessage, 7)
		require.Equal(t, 7*time.Second, info.Duration)
		require.Equal(t, "msg.wav", info.FileName, "only the base name of the upload is kept")
		require.Equal(t, "manager", info.UploadedBy)
		c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
		require.NoError(t, err)
		require.Equal(t, campaigns.StatusActive, c.Status)

		err = campaigns.DeleteCampaignAudio(ctx, db, c.ID, campaigns.AudioInfoMessage)
		require.ErrorContains(t, err, "may be active only with a recorded information message")
		_, err = campaigns.InfoMessage(ctx, db, c.ID)
		require.NoError(t, err, "the refused delete left the message")
		require.NoError(t, campaigns.DeleteCampaignAudio(ctx, db, c.ID, campaigns.AudioHoldMusic))
		_, err = campaigns.HoldMusic(ctx, db, c.ID)
		require.ErrorIs(t, err, campaigns.ErrNotFound)
	}

	// An active campaign on the simulated carrier with no recording is
	// refused a trunk.
	active := realCampaign(t, db, "Active sim carrier", map[string]string{"status": "active"})
	_, err = campaigns.SetCampaignTrunks(ctx, db, active.ID, []string{"carrier"})
	require.ErrorContains(t, err, "may be active only with a recorded information message")
	got, err := campaigns.CampaignTrunks(ctx, db, active.ID)
	require.NoError(t, err)
	require.Empty(t, got, "the refused change was rolled back")

	// Preview campaigns place calls an agent has already taken: no message.
	preview := realCampaign(t, db, "Preview", map[string]string{"mode": "preview"})
	_, err = campaigns.SetCampaignTrunks(ctx, db, preview.ID, []string{"carrier"})
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, preview.ID, campaigns.StatusActive)
	require.NoError(t, err)
	// ... but turning it into a power campaign while active needs one.
	_, err = campaigns.Update(ctx, db, preview.ID, map[string]string{"mode": "power"})
	require.ErrorContains(t, err, "may be active only with a recorded information message")
}

// Recordings are stored as 8 kHz µ-law with their length, file name, who
// and when; a new upload replaces the old; the table refuses what is too
// long or empty.
func TestCampaignAudioStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := realCampaign(t, db, "Audio", nil)
	pcmu := []byte{0xff, 0x7f, 0x00, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	info, err := campaigns.SaveCampaignAudio(ctx, db, campaigns.AudioUpload{Campaign: c.ID, Kind: campaigns.AudioHoldMusic,
		PCMU: pcmu, FileName: "../../etc/music\n.wav", UploadedBy: "mgr", At: at})
	require.NoError(t, err)
	require.Equal(t, 2, info.DurationMS)
	require.Equal(t, "music.wav", info.FileName)
	require.True(t, at.Equal(info.UploadedAt))
	a, err := campaigns.HoldMusic(ctx, db, c.ID)
	require.NoError(t, err)
	require.Equal(t, pcmu, a.PCMU)

	upload(t, db, c, campaigns.AudioHoldMusic, 4)
	infos, err := campaigns.CampaignAudioInfos(ctx, db, c.ID)
	require.NoError(t, err)
	require.Len(t, infos, 1, "a new upload replaces the old")
	require.Equal(t, 4000, infos[0].DurationMS)

	_, err = campaigns.SaveCampaignAudio(ctx, db, campaigns.AudioUpload{Campaign: c.ID, Kind: campaigns.AudioInfoMessage,
		PCMU: make([]byte, 301*campaigns.AudioBytesPerSecond), FileName: "long.wav", UploadedBy: "mgr", At: at})
	require.ErrorContains(t, err, "the information message is 5m1s long; at most 5m0s")
	_, err = campaigns.SaveCampaignAudio(ctx, db, campaigns.AudioUpload{Campaign: c.ID, Kind: campaigns.AudioInfoMessage,
		FileName: "empty.wav", UploadedBy: "mgr", At: at})
	require.ErrorIs(t, err, campaigns.ErrInputInvalid)
	_, err = campaigns.SaveCampaignAudio(ctx, db, campaigns.AudioUpload{Campaign: c.ID + 1000, Kind: campaigns.AudioInfoMessage,
		PCMU: pcmu, FileName: "x.wav", UploadedBy: "mgr", At: at})
	require.ErrorIs(t, err, campaigns.ErrNotFound)
	_, err = campaigns.CampaignAudioInfo(ctx, db, c.ID, campaigns.AudioInfoMessage)
	require.ErrorIs(t, err, campaigns.ErrNotFound)

	_, err = db.Exec(ctx, `INSERT INTO campaign_audio (campaign_id, kind, pcmu, file_name, uploaded_by) VALUES ($1, 'ringback', '\x00', 'a', 'b')`, c.ID)
	require.ErrorContains(t, err, "campaign_audio_kind_check")
	_, err = db.Exec(ctx, `INSERT INTO campaign_audio (campaign_id, kind, pcmu, file_name, uploaded_by) VALUES ($1, 'info_message', '', 'a', 'b')`, c.ID)
	require.ErrorContains(t, err, "campaign_audio_pcmu_check")

	k, err := campaigns.ParseAudioKind("hold-music")
	require.NoError(t, err)
	require.Equal(t, campaigns.AudioHoldMusic, k)
	_, err = campaigns.ParseAudioKind("ringback")
	require.ErrorIs(t, err, campaigns.ErrInputInvalid)
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
