package sip

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// requestSink keeps the callers who leave a callback request and stores
// each at once.
type requestSink struct {
	mu   sync.Mutex
	left []inbound.LeftCaller
}

func (s *requestSink) Left(c inbound.LeftCaller, stored func()) {
	s.mu.Lock()
	s.left = append(s.left, c)
	s.mu.Unlock()
	stored()
}

func (s *requestSink) callers() []inbound.LeftCaller {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]inbound.LeftCaller(nil), s.left...)
}

// sendKey sends one RFC 4733 key press from p to dst: three updates of
// the event, then its end three times, as phones do.
func sendKey(t *testing.T, p *phone, dst netip.AddrPort, event byte) {
	t.Helper()
	p.mu.Lock()
	p.seq++
	ts := p.ts + 160
	p.ts = ts
	p.mu.Unlock()
	for i := range 6 {
		end := byte(0)
		if i >= 3 {
			end = 0x80
		}
		dur := uint16(160 * (min(i, 3) + 1))
		p.mu.Lock()
		p.seq++
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: p.seq, Timestamp: ts,
			SSRC: p.ssrc, Marker: i == 0}, Payload: []byte{event, end | 10, byte(dur >> 8), byte(dur)}}
		p.mu.Unlock()
		b, err := pkt.Marshal()
		require.NoError(t, err)
		_, err = p.conn.WriteToUDPAddrPort(b, dst)
		require.NoError(t, err)
	}
}

// A caller waiting with music who presses 1 (RFC 4733) leaves a callback
// request that keeps their place, where the queue takes them: the router
// hands them to its request store, and once it is stored the caller hears
// the acknowledgement and our BYE. In a queue that takes none, the key does
// nothing: the caller waits on.
func TestSIPInboundCallerPressesOneForACallback(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{true, false} {
		u := loopbackUA(t)
		line, log, sink := &lateLine{}, &queueLog{}, &requestSink{}
		r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: pokes{}, Line: line, Log: log, Requests: sink})
		require.NoError(t, err)
		q := inbound.Queue{ID: 1, Name: "support", NoAgents: inbound.Fallback{Action: inbound.ActionWait},
			Callbacks: inbound.Callbacks{Allow: allow}}.WithDefaults()
		require.NoError(t, r.SetQueue(q, []inbound.Member{{Queue: 1, Agent: agents.ID(7), Level: 1}})) // never comes
		r.SetDID(testDID, 1)
		c, err := u.NewCallers(CallersConfig{Router: r, Ringback: 100 * time.Millisecond, Logger: testLogger(t)})
		require.NoError(t, err)
		line.c = c
		u.SetInboundHandler(c.HandleInvite)
		ph := newPhone(t)
		ending := callerWaitsForBye
		if !allow {
			ending = callerHangsUp
		}
		s := caller(t, u, ph, testDID, ending, 4000)
		var ours netip.AddrPort
		testwait.Until(t, func() bool {
			ph.mu.Lock()
			defer ph.mu.Unlock()
			if len(ph.got) > 0 {
				ours = ph.got[0].from
			}
			return len(ph.got) > 5
		}, "the waiting caller hears music")
		sendKey(t, ph, ours, 1)
		sippPassed(t, s)
		if !allow {
			require.Empty(t, sink.callers(), "no callback where the queue takes none")
			require.True(t, log.has(inbound.EvAbandon), "the caller waited on and hung up")
			continue
		}
		left := sink.callers()
		require.Len(t, left, 1)
		require.Equal(t, "+12025550177", left[0].From)
		require.Equal(t, testDID, left[0].DID)
		require.True(t, log.has(inbound.EvOverflow), "the caller's visit ends as an overflow to the callback")
		require.False(t, log.has(inbound.EvAbandon))
		testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
	}
}
