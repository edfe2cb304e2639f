package web

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/media"
)

// toneWAV is a 16-bit mono PCM WAV of a 440 Hz tone at rate, for seconds.
func toneWAV(rate int, seconds float64) []byte {
	frames := int(seconds * float64(rate))
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*frames))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(rate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * frames))
	for i := range frames {
		w(int16(10000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate))))
	}
	return b.Bytes()
}

func (c *apiClient) upload(path, filename string, file []byte) (int, string) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filename)
	require.NoError(c.t, err)
	_, _ = fw.Write(file)
	require.NoError(c.t, mw.Close())
	return c.send("POST", path, &buf, mw.FormDataContentType())
}

// refusesBadWAVs uploads files that are not usable WAVs to path: each is
// a 400 on field "file" naming the file and saying why.
func (c *apiClient) refusesBadWAVs(path string) {
	c.t.Helper()
	for _, bad := range []struct {
		name string
		file []byte
		msg  string
	}{
		{"notes.wav", []byte("just some text, not audio at all"), "notes.wav: not a usable WAV file: no RIFF/WAVE header"},
		{"song.mp3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...), "this is an MP3 file, not a WAV"},
		{"cut.wav", toneWAV(8000, 1)[:1000], "truncated"},
		{"empty.wav", nil, "the file is empty"},
	} {
		status, body := c.upload(path, bad.name, bad.file)
		require.Equal(c.t, http.StatusBadRequest, status, body)
		e := decodeError(c.t, body)
		require.Equal(c.t, "file", e.Field)
		require.Contains(c.t, e.Error, bad.msg)
	}
}

// recording fetches a stored recording as the console's player does: a
// WAV, decoded.
func (c *apiClient) recording(path string) []int16 {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	require.NoError(c.t, err)
	req.Header.Set("Cookie", c.cookie)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	require.Equal(c.t, "audio/wav", resp.Header.Get("Content-Type"))
	samples, err := media.DecodeWAV(resp.Body)
	require.NoError(c.t, err)
	return samples
}

// A manager uploads a WAV recording; it is stored converted to 8 kHz
// µ-law, described with its length, file name and uploader, and played back
// as a WAV; a file that is not a usable WAV is a 400 saying why; the
// information message of an active power campaign on a real trunk cannot
// be removed, and such a campaign cannot start without one.
func TestCampaignAudioAPI(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "audio")
	max := loginAPI(t, s, db, "max", RoleManager)

	status, body := max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Power", "mode": "power",
		"caller_id": "+12025550143", "info_message": "This was Acme calling."})
	require.Equal(t, http.StatusCreated, status, body)
	var camp campaigns.Campaign
	require.NoError(t, json.Unmarshal([]byte(body), &camp))
	status, body = max.do("POST", "/api/v1/trunks", map[string]any{"name": "carrier", "uri": "sip:carrier.example"})
	require.Equal(t, http.StatusCreated, status, body)
	base := fmt.Sprintf("/api/v1/campaigns/%d", camp.ID)
	status, body = max.do("PUT", base+"/trunks", map[string]any{"trunks": []string{"carrier"}})
	require.Equal(t, http.StatusOK, status, body)

	status, body = max.do("POST", base+"/start", nil)
	require.Equal(t, http.StatusBadRequest, status, body)
	e := decodeError(t, body)
	require.Equal(t, "info_message_audio", e.Field)
	require.Contains(t, e.Error, "a power campaign on a real trunk may be active only with a recorded information message")

	max.refusesBadWAVs(base + "/audio/info_message")
	status, body = max.send("POST", base+"/audio/info_message", bytes.NewReader(toneWAV(8000, 1)), "audio/wav")
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, `multipart field \"file\"`)
	status, _ = max.upload(base+"/audio/ringback", "x.wav", toneWAV(8000, 1))
	require.Equal(t, http.StatusNotFound, status)

	status, body = max.upload(base+"/audio/info_message", "message.wav", toneWAV(44100, 2.25))
	require.Equal(t, http.StatusCreated, status, body)
	var info campaigns.AudioInfo
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	require.Equal(t, 2250, info.DurationMS)
	require.Equal(t, "message.wav", info.FileName)
	require.Equal(t, "max", info.UploadedBy)

	status, body = max.do("GET", base+"/audio", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"kind":"info_message","duration_ms":2250,"file_name":"message.wav","uploaded_by":"max"`)

	require.Len(t, max.recording(base+"/audio/info_message"), 18000, "a 16-bit 8 kHz WAV of what callers hear")

	status, body = max.do("POST", base+"/start", nil)
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("DELETE", base+"/audio/info_message", nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "may be active only with a recorded information message")
	status, _ = max.do("DELETE", base+"/audio/hold_music", nil)
	require.Equal(t, http.StatusNotFound, status, "none was uploaded")

	agent := loginAPI(t, s, db, "ann", RoleAgent)
	status, _ = agent.upload(base+"/audio/hold_music", "x.wav", toneWAV(8000, 1))
	require.Equal(t, http.StatusForbidden, status)
}
