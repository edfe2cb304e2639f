package sip

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// After Stop nothing the UA started is left running: the sockets'
// readers, sipgo's transactions, every leg's goroutine and RTP reader, the
// prompt pacer, with a bridged call playing a prompt at Stop (hung up by
// it) and one cancelled while ringing.
// Not parallel: it runs before the parallel tests start, so every goroutine
// it sees beyond those at its start is its own.
func TestSIPStopLeavesNoGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { testwait.NoLeaks(t, before) }) // the first cleanup runs last
	ports := testPorts(t)
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	answer := uas(t, "uas_answer.xml", 1)
	ring := uas(t, "uas_noanswer.xml", 1)
	prompt := media.NewPrompt(tone(8 * 60000)) // still playing at Stop
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag, Prompts: func(string) (*media.Prompt, bool) { return prompt, true }},
		trunkTo("answer", answer))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.Play(context.Background(), 1, "long"))

	tr2, rec2 := newTrunk(t, u, TrunkOptions{}, trunkTo("ring", ring))
	require.NoError(t, tr2.Dial(context.Background(), dialer.DialRequest{Call: 2, Number: "+15551230000", RingTimeout: 200 * time.Millisecond}))
	rec2.waitFor(t, 2, dialer.TrunkNoAnswer)

	u.Stop()
	sippPassed(t, answer) // Stop sent the BYE
	sippPassed(t, ring)
}
