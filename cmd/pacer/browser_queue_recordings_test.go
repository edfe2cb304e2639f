package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
)

// A queue's recordings in headless Chromium (web/e2e/queue_recordings.mjs),
// on the real binary: a manager editing the demo queue is refused a comfort
// interval of 5 s beside the field and saves 30 s, has a file that is not a
// WAV refused beside the welcome's field with its reason, uploads a welcome
// and a comfort message (WAVs written by the script), sees each with its
// length, file name and uploader and a player that loads it, and removes
// the welcome. Screenshot: queue-recordings.
func TestBrowserQueueRecordings(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve()()

	var out struct {
		ComfortError    string  `json:"comfort_error"`
		BadWAVError     string  `json:"bad_wav_error"`
		WelcomeInfo     string  `json:"welcome_info"`
		WelcomeDuration float64 `json:"welcome_duration"`
		ComfortDuration float64 `json:"comfort_duration"`
		ComfortEvery    string  `json:"comfort_every"`
	}
	b.script("queue_recordings.mjs", &out)
	require.Contains(t, out.ComfortError, "comfort message interval 5 s is out of range")
	require.Contains(t, out.BadWAVError, "not a usable WAV file: no RIFF/WAVE header")
	require.InDelta(t, 1.5, out.WelcomeDuration, 0.01, "the browser plays the stored welcome")
	require.InDelta(t, 2, out.ComfortDuration, 0.01, "the browser plays the stored comfort message")
	require.Equal(t, "30", out.ComfortEvery)
	b.requireShots("queue-recordings")

	// What the clicks stored.
	ctx := context.Background()
	store := inbound.NewQueueStore(b.db())
	q, err := store.QueueByDID(ctx, DemoDID)
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, q.ComfortEvery)
	list, err := store.AudioInfos(ctx, q.ID)
	require.NoError(t, err)
	require.Len(t, list, 1, "the welcome was removed")
	require.Equal(t, inbound.AudioComfort, list[0].Kind)
	require.Equal(t, "still-there.wav", list[0].FileName)
	require.Equal(t, 2000, list[0].DurationMS)
	require.Equal(t, "manager", list[0].UploadedBy)
}
