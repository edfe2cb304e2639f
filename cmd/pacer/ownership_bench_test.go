package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// How long a campaign goes undialled when its owner is killed: three nodes
// with a 2 s lease TTL, the owner killed with SIGKILL ten times (each time
// a new node joins), from the dead node's heartbeat expiry to the new
// owner's first dial.
//
//	PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkTakeoverAfterKill -benchtime 1x ./cmd/pacer/
func BenchmarkTakeoverAfterKill(b *testing.B) {
	const kills = 10
	var took []time.Duration
	for range b.N {
		c := newCluster(b, 20000)
		procs := map[string]*proc{}
		for range 3 {
			c.startNode(procs)
		}
		c.waitCalls(10, "true")
		took = took[:0]
		for range kills {
			_, d := c.killOwner(procs)
			took = append(took, d)
			c.startNode(procs)
		}
		c.termAll(procs)
		c.promisesKept(true)
	}
	slices.Sort(took)
	median, worst := took[len(took)/2], took[len(took)-1]
	b.ReportMetric(median.Seconds(), "s_median_takeover")
	b.ReportMetric(worst.Seconds(), "s_max_takeover")
	goal := 5.0
	met := worst.Seconds() <= goal
	require.NoError(b, benchout.Write(benchout.Result{Name: "takeover_after_kill",
		Summary: fmt.Sprintf("after SIGKILL of a campaign's owner (3 nodes, lease TTL 2 s, %d kills), another node dialled %.2f s (median) and %.2f s (max) after the dead node's lease expired", kills, median.Seconds(), worst.Seconds()),
		Figures: map[string]float64{"median_s": median.Seconds(), "max_s": worst.Seconds(), "kills": kills, "lease_ttl_s": 2},
		Goal:    "max <= 5 s after expiry", Met: &met}))
}

// How long a SIGTERM drain takes with calls connected: one node, 10
// simulated agents on 3–5 s calls, the signal sent once 8 are connected;
// from the signal to the process's exit, every call dispositioned.
//
//	PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkDrain -benchtime 1x ./cmd/pacer/
func BenchmarkDrain(b *testing.B) {
	const connected = 8
	var took time.Duration
	var atSignal int
	for range b.N {
		c := newClusterWith(b, 2000, "power", func(rt *sim.Realtime) {
			rt.AgentTalk = sim.Dist{Dist: "uniform", Min: 3, Max: 5}
			rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 10, Max: 12}
		})
		c.agents = 10
		p := c.start("--drain-timeout", "1m")
		testwait.Until(b, func() bool {
			return c.count(`SELECT count(*) FROM calls WHERE state = 'connected'`) >= connected
		})
		atSignal = c.count(`SELECT count(*) FROM calls WHERE state = 'connected'`)
		start := time.Now()
		require.NoError(b, p.cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(b, <-p.done)
		took = time.Since(start)
		require.True(b, strings.Contains(p.logs.String(), "drained: every call ended and dispositioned"), p.logs.String())
		c.promisesKept(true)
	}
	b.ReportMetric(took.Seconds(), "s_drain")
	require.NoError(b, benchout.Write(benchout.Result{Name: "sigterm_drain",
		Summary: fmt.Sprintf("SIGTERM with %d calls connected (agents talk 3–5 s): every call ended by itself and dispositioned, process exited %.2f s after the signal", atSignal, took.Seconds()),
		Figures: map[string]float64{"connected_at_signal": float64(atSignal), "drain_s": took.Seconds()}}))
}
