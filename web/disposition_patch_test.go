package web

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// A disposition PUT body is outside input: whatever arrives, it is refused
// with a 4xx or read as a patch that sets exactly the fields present, each
// to the value sent (recycle_after_s null: 0, clearing it).
func FuzzDispositionPatch(f *testing.F) {
	for _, s := range []string{
		`{"label":"Do not call us"}`,
		`{"category":"dnc","final":true,"recycle_after_s":null}`,
		`{"code":"hot","system":false,"schedules_callback":true}`,
		`{"label":null}`, `{"final":"yes"}`, `{"colour":"red"}`, `[]`, `null`, `{"system":true}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := dispositionPatch([]byte(body), "HOT")
		if err != nil {
			return
		}
		var sent map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &sent))
		present := func(k string) bool { _, ok := sent[k]; return ok }
		require.Equal(t, present("label"), p.Label != nil)
		require.Equal(t, present("category"), p.Category != nil)
		require.Equal(t, present("final"), p.Final != nil)
		require.Equal(t, present("recycle_after_s"), p.RecycleAfterS != nil)
		require.Equal(t, present("schedules_callback"), p.SchedulesCallback != nil)
		if p.Label != nil {
			require.Equal(t, sent["label"], *p.Label)
		}
		if p.Final != nil {
			require.Equal(t, sent["final"], *p.Final)
		}
		if p.RecycleAfterS != nil && sent["recycle_after_s"] == nil {
			require.Zero(t, *p.RecycleAfterS)
		}
		for k := range sent {
			require.Contains(t, []string{"label", "category", "final", "recycle_after_s", "schedules_callback", "code", "system"}, k)
		}
	})
}
