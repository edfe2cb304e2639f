package inbound

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

// A queue's recordings are stored per kind, replaced by a new upload,
// described without their samples, read back byte for byte, removed, and
// go with their queue; an empty or too long one, or one nobody uploaded,
// is refused naming the file.
func TestQueueRecordingsAreStoredReplacedAndRemoved(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	q, err := s.CreateQueue(ctx, Queue{Name: "Support", ComfortEvery: DefaultComfortEvery})
	require.NoError(t, err)
	require.Equal(t, 45*time.Second, q.ComfortEvery)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	welcome := make([]byte, 2*campaigns.AudioBytesPerSecond)
	for i := range welcome {
		welcome[i] = byte(i)
	}

	info, err := s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioWelcome, PCMU: welcome,
		FileName: `C:\recordings\hello.wav`, UploadedBy: "manager", At: at})
	require.NoError(t, err)
	require.Equal(t, AudioInfo{Queue: q.ID, Kind: AudioWelcome, RecordingInfo: campaigns.RecordingInfo{
		Duration: 2 * time.Second, DurationMS: 2000, FileName: "hello.wav", UploadedBy: "manager",
		UploadedAt: info.UploadedAt}}, info)
	require.True(t, at.Equal(info.UploadedAt))
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioComfort, PCMU: make([]byte, 800), FileName: "c.wav",
		UploadedBy: "manager", At: at})
	require.NoError(t, err)

	// A new upload replaces the old one of its kind.
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioWelcome, PCMU: welcome[:8000], FileName: "hi.wav",
		UploadedBy: "boss", At: at.Add(time.Hour)})
	require.NoError(t, err)
	list, err := s.AudioInfos(ctx, q.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, AudioWelcome, list[0].Kind, "welcome first, as the console shows them")
	require.Equal(t, "hi.wav", list[0].FileName)
	require.Equal(t, 1000, list[0].DurationMS)
	require.Equal(t, AudioComfort, list[1].Kind)
	a, err := s.Audio(ctx, q.ID, AudioWelcome)
	require.NoError(t, err)
	require.Equal(t, welcome[:8000], a.PCMU)

	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioHoldMusic, PCMU: nil, FileName: "m.wav", UploadedBy: "m", At: at})
	requireQueueError(t, err, "file", "the hold music is empty")
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioHoldMusic,
		PCMU: make([]byte, 301*campaigns.AudioBytesPerSecond), FileName: "m.wav", UploadedBy: "m", At: at})
	requireQueueError(t, err, "file", "the hold music is 5m1s long; at most 5m0s")
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: AudioHoldMusic, PCMU: welcome, FileName: "m.wav", At: at})
	requireQueueError(t, err, "file", "who uploaded the hold music must be known")
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: "jingle", PCMU: welcome, FileName: "m.wav", UploadedBy: "m", At: at})
	requireQueueError(t, err, "kind", `unknown recording "jingle"`)
	_, err = s.SaveAudio(ctx, AudioUpload{Queue: 4242, Kind: AudioWelcome, PCMU: welcome, FileName: "m.wav", UploadedBy: "m", At: at})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Audio(ctx, q.ID, AudioHoldMusic)
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, s.DeleteAudio(ctx, q.ID, AudioWelcome))
	require.ErrorIs(t, s.DeleteAudio(ctx, q.ID, AudioWelcome), ErrNotFound)
	list, err = s.AudioInfos(ctx, q.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)

	require.NoError(t, s.DeleteQueue(ctx, q.ID))
	list, err = s.AudioInfos(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, list, "the recordings went with their queue")
}

// The node's Sounds follow the table: each number plays its queue's
// recordings and comfort interval; an upload, a replacement or a removal
// shows at the next Refresh, and a caller keeps the sounds they were given.
func TestSoundsFollowTheQueuesRecordings(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	q, err := s.CreateQueue(ctx, Queue{Name: "Support", ComfortEvery: 20 * time.Second})
	require.NoError(t, err)
	other, err := s.CreateQueue(ctx, Queue{Name: "Sales"})
	require.NoError(t, err)
	_, err = s.SetDID(ctx, "+12025550100", q.ID)
	require.NoError(t, err)
	_, err = s.SetDID(ctx, "+12025550101", other.ID)
	require.NoError(t, err)
	refresh := func(sounds *Sounds) {
		t.Helper()
		qs, err := s.Queues(ctx)
		require.NoError(t, err)
		require.NoError(t, sounds.Refresh(ctx, s, qs))
	}
	save := func(kind AudioKind, b byte, at time.Time) {
		t.Helper()
		_, err := s.SaveAudio(ctx, AudioUpload{Queue: q.ID, Kind: kind, PCMU: []byte{b, b, b, b}, FileName: "x.wav",
			UploadedBy: "m", At: at})
		require.NoError(t, err)
	}
	sounds := NewSounds()
	require.Equal(t, WaitSounds{}, sounds.ForDID("+12025550100"), "nothing before the first refresh")
	refresh(sounds)
	require.Equal(t, WaitSounds{ComfortEvery: 20 * time.Second}, sounds.ForDID("+12025550100"), "no recordings: music only")

	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	save(AudioWelcome, 0x11, at)
	save(AudioComfort, 0x22, at)
	refresh(sounds)
	first := sounds.ForDID("+12025550100")
	require.NotNil(t, first.Welcome)
	require.NotNil(t, first.Comfort)
	require.Nil(t, first.Music)
	require.Equal(t, 20*time.Second, first.ComfortEvery)
	require.Equal(t, WaitSounds{ComfortEvery: 0}, sounds.ForDID("+12025550101"), "another queue's number plays none of them")

	refresh(sounds)
	require.Same(t, first.Welcome, sounds.ForDID("+12025550100").Welcome, "unchanged recordings are not loaded again")

	save(AudioWelcome, 0x33, at.Add(time.Minute))
	save(AudioHoldMusic, 0x44, at)
	require.NoError(t, s.DeleteAudio(ctx, q.ID, AudioComfort))
	refresh(sounds)
	next := sounds.ForDID("+12025550100")
	require.NotSame(t, first.Welcome, next.Welcome, "the replaced welcome is the new one")
	require.Equal(t, 125*time.Microsecond*4, next.Welcome.Duration())
	require.NotNil(t, next.Music)
	require.Nil(t, next.Comfort, "the removed comfort message is gone")
	require.NotNil(t, first.Comfort, "a caller given the old sounds keeps them")
}
