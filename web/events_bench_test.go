package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// BenchmarkWSBroadcast1000 connects 1,000 WebSocket clients (a supervisor's
// session each) to one server and publishes agent state changes the way the
// publisher does; every client's delivery latency, from publish to the
// message read by the client, is recorded. Clients run in the same process,
// so they compete with the server for the same cores.
func BenchmarkWSBroadcast1000(b *testing.B) {
	const clients, rounds = 1000, 50
	db := testdb.NewPool(b)
	// One supervisor holds every socket: the per-user limit is lifted.
	s := startServerWith(b, db, Config{Node: "bench", SocketsPerUser: clients})
	addUser(b, db, "boss", RoleSupervisor)
	cookie := loginCookie(b, s, "boss")

	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		c, _, err := dialEvents(b, s, cookie, "")
		require.NoError(b, err)
		_, ok := next(b, c, "hello", 10*time.Second)
		require.True(b, ok)
		conns[i] = c
	}
	testwait.Until(b, func() bool { return s.Hub().Clients() == clients })

	var mu sync.Mutex
	lat := make([]float64, 0, clients*rounds)
	got := make(chan struct{}, clients)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				at := time.Now()
				var ev struct {
					Data struct {
						Sent int64 `json:"sent_ns"`
					} `json:"data"`
				}
				if json.Unmarshal(msg, &ev) != nil || ev.Data.Sent == 0 {
					continue
				}
				mu.Lock()
				lat = append(lat, float64(at.UnixNano()-ev.Data.Sent)/1e6)
				mu.Unlock()
				got <- struct{}{}
			}
		}()
	}
	b.ResetTimer()
	start := time.Now()
	for r := range rounds {
		s.publish(Event{Type: "agent", Campaign: 1, Agent: int64(1000001 + r),
			Data: map[string]any{"state": "READY", "sent_ns": time.Now().UnixNano()}})
		for range clients {
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				b.Fatalf("round %d: not every client got the broadcast", r)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()

	sort.Float64s(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	p50, p99, worst := q(0.50), q(0.99), lat[len(lat)-1]
	b.ReportMetric(p50, "p50_ms")
	b.ReportMetric(p99, "p99_ms")
	met := p99 < 100
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "ws_broadcast",
		Summary: fmt.Sprintf("broadcast a state change to %d WebSocket clients: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d deliveries)",
			clients, p50, p99, worst, len(lat)),
		Figures: map[string]float64{"clients": clients, "broadcasts": rounds, "deliveries": float64(len(lat)),
			"p50_ms": p50, "p99_ms": p99, "max_ms": worst, "seconds": elapsed.Seconds()},
		Goal: "p99 < 100 ms", Met: &met,
	}))
}
