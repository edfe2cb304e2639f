package sip

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// recorder is a dialer.TrunkDeliverer that keeps every event, in order.
type recorder struct {
	mu     sync.Mutex
	events []dialer.TrunkEvent
}

func (r *recorder) Now() time.Time { return time.Now() }

func (r *recorder) DeliverTrunk(_ time.Time, ev dialer.TrunkEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// of returns the events of one call.
func (r *recorder) of(call dialer.CallID) []dialer.TrunkEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []dialer.TrunkEvent
	for _, ev := range r.events {
		if ev.Call == call {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor waits until call has an event of kind and returns it; an event
// that ends the call with another kind fails the test at once.
func (r *recorder) waitFor(t *testing.T, call dialer.CallID, kind dialer.TrunkEventKind) dialer.TrunkEvent {
	t.Helper()
	var got *dialer.TrunkEvent
	testwait.Until(t, func() bool {
		for _, ev := range r.of(call) {
			if ev.Kind == kind {
				got = &ev
				return true
			}
			switch ev.Kind {
			case dialer.TrunkRinging, dialer.TrunkAnsweredHuman, dialer.TrunkDTMF, dialer.TrunkTransferAnswered,
				dialer.TrunkTransferFailed: // news along the way, not an end
			default:
				got = &ev
				return true
			}
		}
		return false
	}, "call %d never had a %s event", call, kind)
	require.Equal(t, kind, got.Kind, "call %d: events %v", call, r.of(call))
	return *got
}

// scenario writes testdata/name into a temporary file with each key of
// subst replaced by its value (sipp substitutes -key values in message
// bodies but not in a response's status line).
func scenario(t *testing.T, name string, subst ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(subst); i += 2 {
		s = strings.ReplaceAll(s, subst[i], subst[i+1])
	}
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	return p
}

// kinds lists the kinds of call's events.
func (r *recorder) kinds(call dialer.CallID) []dialer.TrunkEventKind {
	var out []dialer.TrunkEventKind
	for _, ev := range r.of(call) {
		out = append(out, ev.Kind)
	}
	return out
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("PACER_SIP_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// startUA starts a UA on a free loopback port, stopped at the test's end.
func startUA(t *testing.T, cfg Config) *UA {
	t.Helper()
	sipptest.Need(t)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Logger = testLogger(t)
	if cfg.Media.Ports == nil {
		cfg.Media.Ports = testPorts(t)
	}
	u, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, u.Start(context.Background()))
	t.Cleanup(u.Stop)
	return u
}

// testPorts is an RTP port range for a test's UA; ports held by other
// tests or processes are skipped by the allocator.
func testPorts(t testing.TB) *media.Ports {
	p, err := media.NewPorts(20000, 29999)
	require.NoError(t, err)
	return p
}

// uas starts sipp as a carrier running the scenario file for calls calls.
func uas(t *testing.T, file string, calls int, args ...string) *sipptest.Sipp {
	t.Helper()
	if !strings.Contains(file, "/") {
		file = filepath.Join("testdata", file)
	}
	return sipptest.Start(t, sipptest.Options{Scenario: file, Calls: calls, Args: args})
}

// trunkTo is a trunk config pointing at a sipp.
func trunkTo(name string, s *sipptest.Sipp) TrunkConfig {
	return TrunkConfig{Name: name, URI: "sip:" + s.Addr}
}

// newTrunk builds a campaign trunk over cfgs recording into a new recorder.
func newTrunk(t *testing.T, u *UA, opts TrunkOptions, cfgs ...TrunkConfig) (*Trunk, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts.Logger = testLogger(t)
	tr, err := u.Trunk(1, cfgs, rec, opts)
	require.NoError(t, err)
	return tr, rec
}

func dial(t *testing.T, tr *Trunk, call dialer.CallID) {
	t.Helper()
	require.NoError(t, tr.Dial(context.Background(), dialer.DialRequest{Call: call, Number: "+15551230000",
		CallerID: "+15557654321", RingTimeout: time.Minute}))
}

// sippPassed waits for sipp to exit and requires every call of its
// scenario to have run as written.
func sippPassed(t *testing.T, s *sipptest.Sipp) {
	t.Helper()
	select {
	case <-s.Done():
	case <-testwait.Expired(t):
		require.FailNow(t, "sipp did not finish its scenario")
	}
	require.Equal(t, 0, s.ExitCode(), "sipp's scenario failed:\n%s", s.Output())
}

func withoutRinging(ks []dialer.TrunkEventKind) []dialer.TrunkEventKind {
	var out []dialer.TrunkEventKind
	for _, k := range ks {
		if k != dialer.TrunkRinging {
			out = append(out, k)
		}
	}
	return out
}

// uaWithAgentPhone is a UA (cfg with its own media ports) and agent 1's
// nailed-up PCMU leg to a test phone, offered to trunks through ag.
func uaWithAgentPhone(t *testing.T, cfg Config) (u *UA, ag *agentPhones, agent *phone, agentLeg *media.Leg) {
	t.Helper()
	ports := testPorts(t)
	cfg.Media.Ports = ports
	u = startUA(t, cfg)
	ag = &agentPhones{}
	agent = newPhone(t)
	agentLeg = ag.add(t, ports, 1, agent, media.PCMU)
	return u, ag, agent, agentLeg
}
