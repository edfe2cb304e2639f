package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A manager gives a queue its welcome and comfort messages and its own
// music: a WAV is stored converted to 8 kHz, listed with its length, file
// name and uploader, played back as a WAV and removed; a file that is no
// usable WAV is a 400 naming the file and saying why, an unknown kind 404,
// and agents may not touch them. The comfort interval is a queue setting,
// 45 s for a new queue, 0 (off) or 15 to 600 s.
func TestQueueAudioAPI(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	side := newRouterSide(t, db, nil)
	s := startQueueServer(t, db, side, nil)
	max := loginAPI(t, s, db, "max", RoleManager)

	status, body := max.do("POST", "/api/v1/queues", map[string]any{"name": "Support"})
	require.Equal(t, http.StatusCreated, status, body)
	q := decodeQueue(t, body)
	require.Equal(t, int64(45), q.ComfortEveryS, "a new queue's comfort interval")
	base := fmt.Sprintf("/api/v1/queues/%d", q.ID)
	for _, bad := range []int64{14, 601, -1} {
		status, body = max.do("PATCH", base, map[string]any{"comfort_every_s": bad})
		require.Equal(t, http.StatusBadRequest, status, body)
		e := decodeError(t, body)
		require.Equal(t, "comfort_every_s", e.Field)
		require.Contains(t, e.Error, "out of range: 0 (off) or 15 to 600 seconds")
	}
	for _, good := range []int64{0, 15, 600, 30} {
		status, body = max.do("PATCH", base, map[string]any{"comfort_every_s": good})
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, good, decodeQueue(t, body).ComfortEveryS)
	}

	status, body = max.do("GET", base+"/audio", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"recordings":[]}`, body)

	max.refusesBadWAVs(base + "/audio/welcome")
	status, _ = max.upload(base+"/audio/jingle", "x.wav", toneWAV(8000, 1))
	require.Equal(t, http.StatusNotFound, status, "unknown kind")
	status, _ = max.upload("/api/v1/queues/424242/audio/welcome", "x.wav", toneWAV(8000, 1))
	require.Equal(t, http.StatusNotFound, status, "unknown queue")
	status, _ = max.do("GET", "/api/v1/queues/424242/audio", nil)
	require.Equal(t, http.StatusNotFound, status, "unknown queue")

	status, body = max.upload(base+"/audio/welcome", "welcome.wav", toneWAV(44100, 1.5))
	require.Equal(t, http.StatusCreated, status, body)
	var info inbound.AudioInfo
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	require.Equal(t, inbound.AudioInfo{Queue: q.ID, Kind: inbound.AudioWelcome, RecordingInfo: campaigns.RecordingInfo{
		DurationMS: 1500, FileName: "welcome.wav", UploadedBy: "max", UploadedAt: info.UploadedAt}}, info)
	status, body = max.upload(base+"/audio/comfort", "still-there.wav", toneWAV(8000, 0.5))
	require.Equal(t, http.StatusCreated, status, body)

	status, body = max.do("GET", base+"/audio", nil)
	require.Equal(t, http.StatusOK, status, body)
	var list struct{ Recordings []inbound.AudioInfo }
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Recordings, 2)
	require.Equal(t, inbound.AudioWelcome, list.Recordings[0].Kind)
	require.Equal(t, "still-there.wav", list.Recordings[1].FileName)
	require.Equal(t, 500, list.Recordings[1].DurationMS)

	require.Len(t, max.recording(base+"/audio/welcome"), 12000, "a 16-bit 8 kHz WAV of what callers hear")
	status, _ = max.do("GET", base+"/audio/hold_music", nil)
	require.Equal(t, http.StatusNotFound, status, "none uploaded")

	agent := loginAPI(t, s, db, "ann", RoleAgent)
	status, _ = agent.upload(base+"/audio/hold_music", "x.wav", toneWAV(8000, 1))
	require.Equal(t, http.StatusForbidden, status)
	status, _ = agent.do("DELETE", base+"/audio/welcome", nil)
	require.Equal(t, http.StatusForbidden, status)

	status, body = max.do("DELETE", base+"/audio/welcome", nil)
	require.Equal(t, http.StatusNoContent, status, body)
	status, _ = max.do("DELETE", base+"/audio/welcome", nil)
	require.Equal(t, http.StatusNotFound, status, "already removed")
	status, _ = max.do("DELETE", base+"/audio/jingle", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, body = max.do("GET", base+"/audio", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Recordings, 1)
	require.Equal(t, inbound.AudioComfort, list.Recordings[0].Kind)
}
