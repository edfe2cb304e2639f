package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// An agent whose phone drops, seen in her workspace in headless Chromium
// (web/e2e/phone_drop.mjs) on the real binary, with sipp as her phone: READY
// once the phone answers; when the phone hangs up the page shows PAUSED with
// "Phone disconnected: reconnecting" and a click on Ready is refused with
// the reason; when the phone answers Pacer's redial the page is READY again
// by itself. Screenshots: agent-phone-up.png, agent-phone-down.png,
// agent-phone-back.png.
func TestBrowserPhoneDrop(t *testing.T) {
	b := newBrowserRun(t)
	sipptest.Need(t)
	dir := t.TempDir()
	phone := listenRTP(t)
	phone1Log, phone2Log := filepath.Join(dir, "phone1.txt"), filepath.Join(dir, "phone2.txt")
	handset := sipptest.Start(t, sipptest.Options{Scenario: "testdata/e2e_phone_drop.xml", Calls: 1,
		Args: []string{"-set", "out", phone1Log, "-set", "media", strconv.Itoa(phone.port())}})
	db, err := pgxpool.New(context.Background(), b.dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	// No leads: the agent waits READY; the trunk points where nobody
	// listens.
	sipCampaign(t, db, sipptest.FreeUDPPort(t), handset.Port, 0)
	stop := b.serve("--no-demo", "--rtp-ports", "30000-39999")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	steps := t.TempDir()
	type result struct {
		stdout, stderr string
		err            error
	}
	done := make(chan result, 1)
	go func() {
		stdout, stderr, err := runScript(b.node, b.e2eDir, "phone_drop.mjs", "BASE_URL="+b.base, "SHOTS="+b.shots,
			"CHROMIUM="+b.chromium, "STEP_DIR="+steps)
		done <- result{stdout, stderr, err}
	}()
	var res *result
	// reached waits for the script to write step, failing with its output if
	// it ends first.
	reached := func(step string) {
		t.Helper()
		testwait.Until(t, func() bool {
			if res == nil {
				select {
				case r := <-done:
					res = &r
				default:
				}
			}
			if _, err := os.Stat(filepath.Join(steps, step)); err == nil {
				return true
			}
			require.Nil(t, res, "phone_drop.mjs ended before %q:\n%+v\nserver logs:\n%s", step, res, b.logs)
			return false
		}, "the page reaches %q", step)
	}

	leg := nextLeg(t, phoneLegs(ctx, phone1Log), "the call to the phone")
	talk, stopTalk := context.WithCancel(ctx)
	go phone.talk(talk, leg.port, 0xa6e17, 1<<20)
	reached("ready")

	dropPhone(t, handset.Addr, leg)
	select {
	case <-handset.Done():
	case <-testwait.Expired(t):
		t.Fatal("the phone's BYE was not answered")
	}
	require.Zero(t, handset.ExitCode(), handset.Output())
	stopTalk()
	unplugged := standInPhone(t, handset.Port, true)
	reached("down")

	unplugged.close()
	handset2 := sipptest.Start(t, sipptest.Options{Scenario: "testdata/e2e_phone_drop.xml", Calls: 1, Port: handset.Port,
		Args: []string{"-set", "out", phone2Log, "-set", "media", strconv.Itoa(phone.port())}})
	leg2 := nextLeg(t, phoneLegs(ctx, phone2Log), "the redial")
	go phone.talk(ctx, leg2.port, 0xa6e18, 1<<20)

	if res == nil {
		select {
		case r := <-done:
			res = &r
		case <-testwait.Expired(t):
			t.Fatal("phone_drop.mjs did not finish")
		}
	}
	t.Logf("phone_drop.mjs: %s", res.stdout)
	require.NoError(t, res.err, "phone_drop.mjs failed:\n%s\n%s\nserver logs:\n%s", res.stdout, res.stderr, b.logs)
	var out struct {
		DownLabel    string `json:"down_label"`
		DownState    string `json:"down_state"`
		ReadyRefused string `json:"ready_refused"`
		BackLabel    string `json:"back_label"`
	}
	mustJSON(t, lastLine(res.stdout), &out)
	require.Equal(t, "Phone disconnected: reconnecting", out.DownLabel)
	require.Equal(t, "PAUSED", out.DownState)
	require.Contains(t, out.ReadyRefused, "your phone is not connected")
	require.Empty(t, out.BackLabel, "no pause shown once READY")
	b.requireShots("agent-phone-up", "agent-phone-down", "agent-phone-back")

	stop()
	select {
	case <-handset2.Done():
	case <-testwait.Expired(t):
		t.Fatal("the redialled leg was not hung up at shutdown")
	}
	require.Zero(t, handset2.ExitCode(), handset2.Output())
}
