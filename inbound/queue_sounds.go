package inbound

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/media"
)

// WaitSounds is what a queue's waiting callers hear: Welcome once from
// their answer, then Music (nil: the node's music) with Comfort after every
// ComfortEvery of it. A nil Welcome or Comfort, or a zero ComfortEvery,
// plays none.
type WaitSounds struct {
	Welcome, Music, Comfort *media.Prompt
	ComfortEvery            time.Duration
}

// Sounds keeps every queue's recordings decoded for playing and answers
// what the callers of a number hear. Refresh brings it in step with
// queue_audio: the node calls it with every reload of the queues (after a
// change made here at once, else on the reload poll), so an upload or a
// removal on any node reaches the callers who arrive afterwards; a caller
// keeps the sounds they got. Safe for concurrent use; no goroutines.
type Sounds struct {
	mu     sync.Mutex
	loaded map[soundKey]loadedSound
	byDID  map[string]WaitSounds
}

type soundKey struct {
	queue QueueID
	kind  AudioKind
}

// loadedSound is a recording as played, with what tells a replaced one
// from it.
type loadedSound struct {
	version AudioInfo
	prompt  *media.Prompt
}

// NewSounds returns an empty set: every number plays the node's music
// until the first Refresh.
func NewSounds() *Sounds {
	return &Sounds{loaded: map[soundKey]loadedSound{}, byDID: map[string]WaitSounds{}}
}

// ForDID is what a caller to number hears while waiting in its queue.
func (s *Sounds) ForDID(number string) WaitSounds {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDID[number]
}

// Refresh reads which recordings exist (their descriptions only), loads
// the samples of those added or replaced since the last Refresh, forgets
// those removed, and maps queues' numbers to their sounds. A recording that
// fails to load keeps its last version until the next Refresh; the error
// says which.
func (s *Sounds) Refresh(ctx context.Context, store *QueueStore, queues []QueueDetail) error {
	infos, err := store.AudioInfos(ctx, 0)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.loaded
	s.mu.Unlock()
	loaded := make(map[soundKey]loadedSound, len(infos))
	var errs []error
	for _, info := range infos {
		k := soundKey{info.Queue, info.Kind}
		if was, ok := old[k]; ok && sameVersion(was.version, info) {
			loaded[k] = was
			continue
		}
		a, err := store.Audio(ctx, info.Queue, info.Kind)
		if errors.Is(err, ErrNotFound) {
			continue // removed since the list was read
		}
		if err != nil {
			if was, ok := old[k]; ok {
				loaded[k] = was
			}
			errs = append(errs, err)
			continue
		}
		loaded[k] = loadedSound{version: a.AudioInfo, prompt: media.NewPromptG711(media.PCMU, a.PCMU)}
	}
	byDID := map[string]WaitSounds{}
	for _, q := range queues {
		w := WaitSounds{ComfortEvery: q.ComfortEvery}
		for kind, dst := range map[AudioKind]**media.Prompt{AudioWelcome: &w.Welcome, AudioHoldMusic: &w.Music,
			AudioComfort: &w.Comfort} {
			if l, ok := loaded[soundKey{q.ID, kind}]; ok {
				*dst = l.prompt
			}
		}
		for _, d := range q.DIDs {
			byDID[d] = w
		}
	}
	s.mu.Lock()
	s.loaded, s.byDID = loaded, byDID
	s.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("load queue recordings: %w", errors.Join(errs...))
	}
	return nil
}

func sameVersion(a, b AudioInfo) bool {
	return a.UploadedAt.Equal(b.UploadedAt) && a.DurationMS == b.DurationMS && a.FileName == b.FileName &&
		a.UploadedBy == b.UploadedBy
}
