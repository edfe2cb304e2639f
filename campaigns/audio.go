package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// AudioKind names one of a campaign's recordings (table campaign_audio).
type AudioKind string

// Recordings a campaign may have.
const (
	// AudioInfoMessage is played to a live answer no agent could take
	// within the connect deadline, before hanging up (DESIGN.md §6).
	AudioInfoMessage AudioKind = "info_message"
	// AudioHoldMusic is played to a customer on hold; without it the
	// music generated in code (media.HoldMusic) plays.
	AudioHoldMusic AudioKind = "hold_music"
)

// AudioBytesPerSecond is the size of the stored form: 8 kHz G.711 µ-law,
// one byte a sample.
const AudioBytesPerSecond = 8000

// MaxAudioDuration is the longest recording the table holds.
const MaxAudioDuration = 5 * time.Minute

// ParseAudioKind accepts the kinds' names, with - or _.
func ParseAudioKind(s string) (AudioKind, error) {
	switch k := AudioKind(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")); k {
	case AudioInfoMessage, AudioHoldMusic:
		return k, nil
	}
	return "", fmt.Errorf("%w: unknown recording %q (info-message or hold-music)", ErrInputInvalid, s)
}

// Label is the kind's name for people.
func (k AudioKind) Label() string {
	if k == AudioHoldMusic {
		return "hold music"
	}
	return "information message"
}

// RecordingInfo describes a stored recording, a campaign's or a queue's:
// its length, the uploaded file's name, who uploaded it and when.
type RecordingInfo struct {
	Duration   time.Duration `json:"-"`
	DurationMS int           `json:"duration_ms"`
	FileName   string        `json:"file_name"`
	UploadedBy string        `json:"uploaded_by"`
	UploadedAt time.Time     `json:"uploaded_at"`
}

// RecordingColumns are the columns ScanRecording reads after the owner
// and the kind, in campaign_audio and queue_audio alike.
const RecordingColumns = `duration_ms, file_name, uploaded_by, uploaded_at`

// ScanRecording scans a row of owner, kind, RecordingColumns, then extra
// (pgx.ErrNoRows as pgx gives it: the caller names what was not found).
func ScanRecording(row pgx.Row, owner, kind any, extra ...any) (RecordingInfo, error) {
	var r RecordingInfo
	err := row.Scan(append([]any{owner, kind, &r.DurationMS, &r.FileName, &r.UploadedBy, &r.UploadedAt}, extra...)...)
	r.Duration = time.Duration(r.DurationMS) * time.Millisecond
	return r, err
}

// AudioInfo describes a campaign's stored recording.
type AudioInfo struct {
	Campaign ID        `json:"campaign_id"`
	Kind     AudioKind `json:"kind"`
	RecordingInfo
}

// Audio is a recording with its samples: 8 kHz G.711 µ-law bytes, ready to
// be played as a prompt (media.PCMU.Decode gives linear samples).
type Audio struct {
	AudioInfo
	PCMU []byte `json:"-"`
}

// AudioUpload is a converted recording to store: the caller decodes the
// uploaded file (media.DecodeWAV) and encodes it (media.PCMU.Encode).
type AudioUpload struct {
	Campaign   ID
	Kind       AudioKind
	PCMU       []byte
	FileName   string // the uploaded file's name, for people; its base name is kept
	UploadedBy string // user name
	At         time.Time
}

// SaveCampaignAudio stores a recording, replacing the campaign's earlier one
// of that kind.
func SaveCampaignAudio(ctx context.Context, db DB, up AudioUpload) (AudioInfo, error) {
	if _, err := ParseAudioKind(string(up.Kind)); err != nil {
		return AudioInfo{}, err
	}
	if err := CheckRecording(up.Kind.Label(), up.PCMU, up.UploadedBy); err != nil {
		return AudioInfo{}, fmt.Errorf("%w: %v", ErrInputInvalid, err)
	}
	name := RecordingFileName(up.FileName)
	tag, err := db.Exec(ctx, `INSERT INTO campaign_audio (campaign_id, kind, pcmu, file_name, uploaded_by, uploaded_at)
		SELECT id, $2, $3, $4, $5, $6 FROM campaigns WHERE id = $1
		ON CONFLICT (campaign_id, kind) DO UPDATE SET pcmu = EXCLUDED.pcmu, file_name = EXCLUDED.file_name,
			uploaded_by = EXCLUDED.uploaded_by, uploaded_at = EXCLUDED.uploaded_at`,
		up.Campaign, up.Kind, up.PCMU, name, up.UploadedBy, up.At)
	if err != nil {
		return AudioInfo{}, fmt.Errorf("save campaign %d %s: %w", up.Campaign, up.Kind.Label(), err)
	}
	if tag.RowsAffected() == 0 {
		return AudioInfo{}, fmt.Errorf("campaign %d: %w", up.Campaign, ErrNotFound)
	}
	if err := touchCampaigns(ctx, db, "id = $1", up.Campaign); err != nil {
		return AudioInfo{}, err
	}
	return CampaignAudioInfo(ctx, db, up.Campaign, up.Kind)
}

// CheckRecording says what keeps a converted recording (8 kHz µ-law bytes)
// from being stored, in words for the person who uploaded it: empty, longer
// than MaxAudioDuration, or nobody named as its uploader. label names the
// recording ("hold music"). Campaigns' and queues' recordings share it.
func CheckRecording(label string, pcmu []byte, uploadedBy string) error {
	switch d := audioDuration(len(pcmu)); {
	case len(pcmu) == 0:
		return fmt.Errorf("the %s is empty", label)
	case d > MaxAudioDuration:
		return fmt.Errorf("the %s is %s long; at most %s", label, d.Round(time.Second), MaxAudioDuration)
	case uploadedBy == "":
		return fmt.Errorf("who uploaded the %s must be known", label)
	}
	return nil
}

// RecordingFileName keeps the base name of an uploaded file, without path
// or control characters, at most 255 bytes; "recording.wav" if nothing is
// left (the CHECK on file_name of campaign_audio and queue_audio).
func RecordingFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
	for len(s) > 255 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" {
		return "recording.wav"
	}
	return s
}

func audioDuration(bytes int) time.Duration {
	return time.Duration(bytes) * time.Second / AudioBytesPerSecond
}

const audioInfoColumns = `campaign_id, kind, ` + RecordingColumns

func scanAudioInfo(row pgx.Row, extra ...any) (AudioInfo, error) {
	var a AudioInfo
	var err error
	a.RecordingInfo, err = ScanRecording(row, &a.Campaign, &a.Kind, extra...)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// CampaignAudioInfo describes a campaign's recording of that kind, or
// ErrNotFound when none was uploaded.
func CampaignAudioInfo(ctx context.Context, db DB, campaign ID, kind AudioKind) (AudioInfo, error) {
	a, err := scanAudioInfo(db.QueryRow(ctx, "SELECT "+audioInfoColumns+" FROM campaign_audio WHERE campaign_id = $1 AND kind = $2",
		campaign, kind))
	if err != nil {
		return a, fmt.Errorf("campaign %d %s: %w", campaign, kind.Label(), err)
	}
	return a, nil
}

// CampaignAudioInfos describes every recording of a campaign, by kind.
func CampaignAudioInfos(ctx context.Context, db DB, campaign ID) ([]AudioInfo, error) {
	rows, err := db.Query(ctx, "SELECT "+audioInfoColumns+" FROM campaign_audio WHERE campaign_id = $1 ORDER BY kind DESC", campaign)
	if err != nil {
		return nil, fmt.Errorf("campaign %d recordings: %w", campaign, err)
	}
	defer rows.Close()
	out := []AudioInfo{}
	for rows.Next() {
		a, err := scanAudioInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("campaign %d recordings: %w", campaign, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CampaignAudio returns a campaign's recording with its samples, or
// ErrNotFound when none was uploaded.
func CampaignAudio(ctx context.Context, db DB, campaign ID, kind AudioKind) (Audio, error) {
	var a Audio
	info, err := scanAudioInfo(db.QueryRow(ctx, "SELECT "+audioInfoColumns+", pcmu FROM campaign_audio WHERE campaign_id = $1 AND kind = $2",
		campaign, kind), &a.PCMU)
	if err != nil {
		return a, fmt.Errorf("campaign %d %s: %w", campaign, kind.Label(), err)
	}
	a.AudioInfo = info
	return a, nil
}

// InfoMessage is the campaign's recorded information message (ErrNotFound
// when none): what the SIP layer plays on an abandon.
func InfoMessage(ctx context.Context, db DB, campaign ID) (Audio, error) {
	return CampaignAudio(ctx, db, campaign, AudioInfoMessage)
}

// HoldMusic is the campaign's uploaded hold music (ErrNotFound when none:
// play the generated music then).
func HoldMusic(ctx context.Context, db DB, campaign ID) (Audio, error) {
	return CampaignAudio(ctx, db, campaign, AudioHoldMusic)
}

// DeleteCampaignAudio removes a recording. The information message of an
// active predictive or power campaign on a real trunk stays: removing it
// would leave abandoned calls with nothing to hear (a *FloorError says so).
func DeleteCampaignAudio(ctx context.Context, db TxDB, campaign ID, kind AudioKind) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		c, err := getForUpdate(ctx, tx, campaign)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM campaign_audio WHERE campaign_id = $1 AND kind = $2", campaign, kind)
		if err != nil {
			return fmt.Errorf("delete campaign %d %s: %w", campaign, kind.Label(), err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("campaign %d %s: %w", campaign, kind.Label(), ErrNotFound)
		}
		if err := CheckCarrier(ctx, tx, c); err != nil {
			return err
		}
		return touchCampaigns(ctx, tx, "id = $1", campaign)
	})
}
