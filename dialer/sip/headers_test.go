package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// Whatever a caller ID or number holds, what headerSafe and userPartSafe
// accept has no character that could end a header line.
func FuzzHeaderSafe(f *testing.F) {
	for _, s := range []string{"+15551230000", "Bob\r\nX: y", "a\x00b", "\n", "ok", "é", "a\x7fb", "sip:x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if headerSafe("v", s) == nil {
			require.False(t, strings.ContainsAny(s, "\r\n\x00"), "%q accepted", s)
		} else {
			require.ErrorIs(t, headerSafe("v", s), dialer.ErrBadControl)
		}
		if userPartSafe("v", s) == nil {
			require.False(t, strings.ContainsAny(s, "\r\n\x00<>@;: "), "%q accepted as a user part", s)
		}
	})
}

// A carrier's Reason header yields a Q.850 cause in 1..127 or none, and
// never panics the leg.
func FuzzQ850(f *testing.F) {
	for _, s := range []string{`Q.850;cause=16;text="Normal"`, `SIP;cause=486, Q.850;cause=17`, `q.850 ; cause = 34`, `Q.850;cause=999`, `Q.850;cause=`, `;;,`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		res := sip.NewResponse(486, "Busy")
		res.AppendHeader(sip.NewHeader("Reason", v))
		q, ok := q850(res)
		if ok {
			require.True(t, q >= 1 && q <= 127, "cause %d", q)
		} else {
			require.Zero(t, q)
		}
	})
}

func TestQ850FromReason(t *testing.T) {
	for v, want := range map[string]uint8{
		`Q.850;cause=16;text="Normal call clearing"`: 16,
		`SIP;cause=486;text="Busy", Q.850;cause=17`:  17,
		`q.850 ; cause = 34`:                         34,
		`Q.850;cause=200`:                            0,
		`SIP;cause=480`:                              0,
	} {
		res := sip.NewResponse(486, "Busy")
		res.AppendHeader(sip.NewHeader("Reason", v))
		got, _ := q850(res)
		require.Equal(t, want, got, v)
	}
}
