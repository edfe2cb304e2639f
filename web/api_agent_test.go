package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

// The disposition body is outside input: whatever arrives, parsing it
// either refuses with a 4xx or yields an input whose callback time is the
// instant sent (in any offset) and whose scope is what was asked, me by
// default.
func FuzzDispositionRequest(f *testing.F) {
	for _, s := range []string{
		`{"code":"CALLBK","callback_at":"2026-11-21T15:04:05-05:00","callback_scope":"me"}`,
		`{"code":"callbk","callback_at":"2026-11-21T20:04:05Z"}`,
		`{"code":"NI","notes":"<b>x</b>"}`,
		`{"code":"","callback_scope":"anyone"}`,
		`{"code":"SALE","callback_at":"tomorrow"}`,
		`{"code":"X","callback_at":"2026-02-30T10:00:00+14:00","callback_scope":"THEM"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req dispositionRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		in, err := req.input()
		if err != nil {
			return
		}
		require.NotEmpty(t, in.Code)
		if in.Callback == nil {
			require.Empty(t, req.CallbackAt)
			return
		}
		at, perr := time.Parse(time.RFC3339, req.CallbackAt)
		require.NoError(t, perr)
		require.True(t, at.Equal(in.Callback.At))
		if req.CallbackScope == "" {
			require.Equal(t, campaigns.ScopeMe, in.Callback.Scope)
		}
	})
}
