package web

import (
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/media"
)

// MaxAudioUpload is the largest WAV file a recording upload takes: five
// minutes of 44.1 kHz 16-bit stereo (about 53 MB) fits, with room for a
// header's extra chunks.
const MaxAudioUpload = 64 << 20

// audioParams are the campaign and the kind of recording a
// /campaigns/:id/audio/:kind route names.
func audioParams(c *fiber.Ctx) (campaigns.ID, campaigns.AudioKind, error) {
	id, err := campaignParam(c)
	if err != nil {
		return 0, "", err
	}
	k, err := campaigns.ParseAudioKind(c.Params("kind"))
	if err != nil {
		return 0, "", apiError(fiber.StatusNotFound, "no recording %q: info_message or hold_music", c.Params("kind"))
	}
	return id, k, nil
}

// apiCampaignAudio describes the campaign's recordings (length, file name,
// who uploaded it and when).
func (s *Server) apiCampaignAudio(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	list, err := campaigns.CampaignAudioInfos(c.UserContext(), s.db, id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recordings": list})
}

// apiCampaignAudioUpload takes a WAV file (multipart field "file"),
// converts it to 8 kHz G.711 µ-law and stores it as the campaign's
// recording of that kind, replacing the earlier one. A file DecodeWAV
// refuses is a 400 with its reason.
func (s *Server) apiCampaignAudioUpload(c *fiber.Ctx) error {
	id, kind, err := audioParams(c)
	if err != nil {
		return err
	}
	pcmu, fileName, err := wavUpload(c)
	if err != nil {
		return err
	}
	u := sessionOf(c).User
	info, err := campaigns.SaveCampaignAudio(c.UserContext(), s.db, campaigns.AudioUpload{Campaign: id, Kind: kind,
		PCMU: pcmu, FileName: fileName, UploadedBy: u.Username, At: s.clock.Now()})
	if err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("campaign recording uploaded", "campaign", int64(id), "kind", string(kind), "file", info.FileName,
		"duration_ms", info.DurationMS, "by", u.Username)
	return c.Status(fiber.StatusCreated).JSON(info)
}

// apiCampaignAudioPlay answers the recording as a 16-bit 8 kHz WAV, what
// callers will hear, for the console's player.
func (s *Server) apiCampaignAudioPlay(c *fiber.Ctx) error {
	id, kind, err := audioParams(c)
	if err != nil {
		return err
	}
	a, err := campaigns.CampaignAudio(c.UserContext(), s.db, id, kind)
	if err != nil {
		return trunkStoreError(err)
	}
	return sendRecording(c, a.FileName, a.PCMU)
}

// apiCampaignAudioDelete removes a recording; an active predictive or
// power campaign on a real trunk keeps its information message (409).
func (s *Server) apiCampaignAudioDelete(c *fiber.Ctx) error {
	id, kind, err := audioParams(c)
	if err != nil {
		return err
	}
	if err := campaigns.DeleteCampaignAudio(c.UserContext(), s.db, id, kind); err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("campaign recording removed", "campaign", int64(id), "kind", string(kind), "by", sessionOf(c).User.Username)
	return c.SendStatus(fiber.StatusNoContent)
}

// wavUpload reads the WAV file of a recording upload (multipart field
// "file") and converts it to 8 kHz G.711 µ-law, the form recordings are
// stored in; a file DecodeWAV refuses is a 400 on field "file" with its
// reason. Campaigns' and queues' uploads share it.
func wavUpload(c *fiber.Ctx) (pcmu []byte, fileName string, err error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", fieldError(fiber.StatusBadRequest, "file", "send the recording as multipart field \"file\" (a WAV file)")
	}
	if fh.Size > MaxAudioUpload {
		return nil, "", fieldError(fiber.StatusRequestEntityTooLarge, "file", "the file is %d MB; at most %d MB (a %s of 44.1 kHz 16-bit stereo fits; mono or 8-16 kHz is smaller)",
			fh.Size>>20, MaxAudioUpload>>20, media.MaxWAVDuration)
	}
	src, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	samples, err := media.DecodeWAV(src)
	var we *media.WAVError
	if errors.As(err, &we) {
		return nil, "", fieldError(fiber.StatusBadRequest, "file", "%s: %v", fh.Filename, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read uploaded recording: %w", err)
	}
	return media.PCMU.Encode(nil, samples), fh.Filename, nil
}

// sendRecording answers a stored recording as a 16-bit 8 kHz WAV, what
// callers hear, for the console's player.
func sendRecording(c *fiber.Ctx, fileName string, pcmu []byte) error {
	name := strings.TrimSuffix(fileName, ".wav") + " (8 kHz).wav"
	c.Set(fiber.HeaderContentType, "audio/wav")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("inline", map[string]string{"filename": name}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(media.EncodeWAV(media.PCMU.Decode(nil, pcmu)))
}
