package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pacer-dialer/pacer/campaigns"
)

// A queue's recordings: table queue_audio (migrations/0035_queue_audio.sql),
// stored as 8 kHz G.711 µ-law like a campaign's (campaigns.CheckRecording
// and RecordingFileName are shared).

// AudioKind names one of a queue's recordings.
type AudioKind string

// Recordings a queue may have.
const (
	// AudioWelcome is played once to a caller answered into the queue.
	AudioWelcome AudioKind = "welcome"
	// AudioComfort is played while a caller waits, after every
	// Queue.ComfortEvery of music.
	AudioComfort AudioKind = "comfort"
	// AudioHoldMusic is the queue's own music; without it the node's
	// music plays.
	AudioHoldMusic AudioKind = "hold_music"
)

// AudioKinds are the kinds in the order the console shows them.
var AudioKinds = []AudioKind{AudioWelcome, AudioComfort, AudioHoldMusic}

// ParseAudioKind accepts the kinds' names, with - or _.
func ParseAudioKind(s string) (AudioKind, error) {
	k := AudioKind(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	for _, known := range AudioKinds {
		if k == known {
			return k, nil
		}
	}
	return "", queueError("kind", "unknown recording %q: welcome, comfort or hold_music", s)
}

// Label is the kind's name for people.
func (k AudioKind) Label() string {
	switch k {
	case AudioWelcome:
		return "welcome message"
	case AudioComfort:
		return "comfort message"
	}
	return "hold music"
}

// AudioInfo describes a queue's stored recording.
type AudioInfo struct {
	Queue QueueID   `json:"queue_id"`
	Kind  AudioKind `json:"kind"`
	campaigns.RecordingInfo
}

// Audio is a recording with its samples (8 kHz G.711 µ-law).
type Audio struct {
	AudioInfo
	PCMU []byte `json:"-"`
}

// AudioUpload is a converted recording to store: the caller decodes the
// uploaded file (media.DecodeWAV) and encodes it (media.PCMU.Encode).
type AudioUpload struct {
	Queue      QueueID
	Kind       AudioKind
	PCMU       []byte
	FileName   string // the uploaded file's name; its base name is kept
	UploadedBy string // user name
	At         time.Time
}

// SaveAudio stores a recording, replacing the queue's earlier one of that
// kind. A refusal is a *QueueError on field "file" (or "kind").
func (s *QueueStore) SaveAudio(ctx context.Context, up AudioUpload) (AudioInfo, error) {
	if _, err := ParseAudioKind(string(up.Kind)); err != nil {
		return AudioInfo{}, err
	}
	if err := campaigns.CheckRecording(up.Kind.Label(), up.PCMU, up.UploadedBy); err != nil {
		return AudioInfo{}, queueError("file", "%v", err)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO queue_audio (queue_id, kind, pcmu, file_name, uploaded_by, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (queue_id, kind) DO UPDATE SET pcmu = EXCLUDED.pcmu, file_name = EXCLUDED.file_name,
			uploaded_by = EXCLUDED.uploaded_by, uploaded_at = EXCLUDED.uploaded_at`,
		up.Queue, up.Kind, up.PCMU, campaigns.RecordingFileName(up.FileName), up.UploadedBy, up.At)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return AudioInfo{}, fmt.Errorf("queue %d: %w", up.Queue, ErrNotFound)
	}
	if err != nil {
		return AudioInfo{}, fmt.Errorf("save queue %d %s: %w", up.Queue, up.Kind.Label(), err)
	}
	return s.AudioInfo(ctx, up.Queue, up.Kind)
}

const audioInfoColumns = `queue_id, kind, ` + campaigns.RecordingColumns

func scanAudioInfo(row pgx.Row, extra ...any) (AudioInfo, error) {
	var a AudioInfo
	var err error
	a.RecordingInfo, err = campaigns.ScanRecording(row, &a.Queue, &a.Kind, extra...)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// AudioInfo describes a queue's recording of that kind, or ErrNotFound
// when none was uploaded.
func (s *QueueStore) AudioInfo(ctx context.Context, queue QueueID, kind AudioKind) (AudioInfo, error) {
	a, err := scanAudioInfo(s.db.QueryRow(ctx, "SELECT "+audioInfoColumns+" FROM queue_audio WHERE queue_id = $1 AND kind = $2",
		queue, kind))
	if err != nil {
		return a, fmt.Errorf("queue %d %s: %w", queue, kind.Label(), err)
	}
	return a, nil
}

// AudioInfos describes the recordings of one queue (queue > 0) or of every
// queue (0), by queue and kind.
func (s *QueueStore) AudioInfos(ctx context.Context, queue QueueID) ([]AudioInfo, error) {
	rows, err := s.db.Query(ctx, "SELECT "+audioInfoColumns+` FROM queue_audio WHERE $1 = 0 OR queue_id = $1
		ORDER BY queue_id, array_position(ARRAY['welcome', 'comfort', 'hold_music'], kind)`, queue)
	if err != nil {
		return nil, fmt.Errorf("queue recordings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AudioInfo, error) { return scanAudioInfo(row) })
	if err != nil {
		return nil, fmt.Errorf("queue recordings: %w", err)
	}
	if out == nil {
		out = []AudioInfo{}
	}
	return out, nil
}

// Audio returns a queue's recording with its samples, or ErrNotFound when
// none was uploaded.
func (s *QueueStore) Audio(ctx context.Context, queue QueueID, kind AudioKind) (Audio, error) {
	var a Audio
	info, err := scanAudioInfo(s.db.QueryRow(ctx, "SELECT "+audioInfoColumns+", pcmu FROM queue_audio WHERE queue_id = $1 AND kind = $2",
		queue, kind), &a.PCMU)
	if err != nil {
		return a, fmt.Errorf("queue %d %s: %w", queue, kind.Label(), err)
	}
	a.AudioInfo = info
	return a, nil
}

// DeleteAudio removes a queue's recording (ErrNotFound when there is none).
func (s *QueueStore) DeleteAudio(ctx context.Context, queue QueueID, kind AudioKind) error {
	tag, err := s.db.Exec(ctx, "DELETE FROM queue_audio WHERE queue_id = $1 AND kind = $2", queue, kind)
	if err != nil {
		return fmt.Errorf("delete queue %d %s: %w", queue, kind.Label(), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("queue %d %s: %w", queue, kind.Label(), ErrNotFound)
	}
	return nil
}
