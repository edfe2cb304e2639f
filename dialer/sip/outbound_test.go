package sip

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// Each final response a carrier gives maps to its outcome and cause, the
// Q.850 cause coming from the Reason header where the carrier sends one.
func TestSIPFinalResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code, q850 string
		kind       dialer.TrunkEventKind
		cause      dialer.Cause
	}{
		{"486", "17", dialer.TrunkBusy, dialer.CauseBusy},
		{"600", "17", dialer.TrunkBusy, dialer.CauseBusyEverywhere},
		{"480", "18", dialer.TrunkNoAnswer, dialer.Cause{SIP: 480, Q850: 18, Reason: dialer.CauseUnavailable.Reason}},
		{"408", "19", dialer.TrunkNoAnswer, dialer.CauseRequestTimeout},
		{"404", "1", dialer.TrunkInvalidNumber, dialer.CauseUnallocated},
		{"484", "28", dialer.TrunkInvalidNumber, dialer.CauseAddressIncomplete},
		{"604", "1", dialer.TrunkInvalidNumber, dialer.CauseDoesNotExist},
		{"403", "21", dialer.TrunkFailed, dialer.Cause{SIP: 403, Q850: 21, Reason: "Final"}},
		{"500", "41", dialer.TrunkFailed, dialer.Cause{SIP: 500, Q850: 41, Reason: "Final"}},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			t.Parallel()
			u := startUA(t, Config{})
			s := uas(t, scenario(t, "uas_final.xml", "CODE", c.code, "Q850", c.q850), 1)
			tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
			dial(t, tr, 1)
			ev := rec.waitFor(t, 1, c.kind)
			require.Equal(t, c.cause, ev.Cause)
			// The 180 may be overtaken by the final response sent right
			// after it (sipgo handles each datagram on its own goroutine).
			require.Equal(t, []dialer.TrunkEventKind{c.kind}, withoutRinging(rec.kinds(1)), "one outcome, nothing else")
			sippPassed(t, s)
		})
	}
}

// A number or caller ID with CR, LF or NUL never reaches the wire: Dial
// refuses it with ErrBadControl and no event follows.
func TestSIPHeaderInjectionRefused(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	// No sipp: nothing may be sent, and an INVITE to this closed port
	// would only end in a failover and a congestion event.
	tr, rec := newTrunk(t, u, TrunkOptions{}, TrunkConfig{Name: "carrier", URI: "sip:127.0.0.1:9"})
	for i, req := range []dialer.DialRequest{
		{Number: "+15551230000", CallerID: "+1555\r\nX-Evil: 1"},
		{Number: "+1555\n1230000", CallerID: "+15557654321"},
		{Number: "+15551230000\x00", CallerID: "+15557654321"},
		{Number: "+15551230000", CallerID: "Bob\r\n\r\nINVITE sip:x@y SIP/2.0"},
		{Number: "+1555@evil.example", CallerID: "+15557654321"},
	} {
		req.Call = dialer.CallID(i + 1)
		err := tr.Dial(context.Background(), req)
		require.ErrorIs(t, err, dialer.ErrBadControl, "request %d", i)
	}
	for what, v := range map[string]string{"username": "u\r\nX: y", "password": "p\x00", "uri": "sip:127.0.0.1\r\nX: y"} {
		c := TrunkConfig{Name: "t", URI: "sip:127.0.0.1"}
		switch what {
		case "username":
			c.Username = v
		case "password":
			c.Password = v
		case "uri":
			c.URI = v
		}
		require.Error(t, c.Validate(), what)
	}
	tr.mu.Lock()
	require.Empty(t, tr.legs, "no leg was started")
	tr.mu.Unlock()
	rec.mu.Lock()
	require.Empty(t, rec.events)
	rec.mu.Unlock()
}
