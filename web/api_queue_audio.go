package web

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/inbound"
)

// A queue's recordings: the welcome message, the comfort message and the
// queue's own hold music, uploaded as WAV files and stored converted as a
// campaign's are (wavUpload, sendRecording). A change reaches this node's
// SIP callers at once (reloadInbound) and other nodes' with their next
// reload of the queues; callers already waiting keep what they hear.

// queueAudioParams are the queue and the kind of recording a
// /queues/:id/audio/:kind route names; an unknown kind is 404.
func queueAudioParams(c *fiber.Ctx) (inbound.QueueID, inbound.AudioKind, error) {
	id, err := queueParam(c)
	if err != nil {
		return 0, "", err
	}
	k, err := inbound.ParseAudioKind(c.Params("kind"))
	if err != nil {
		return 0, "", apiError(fiber.StatusNotFound, "no recording %q: welcome, comfort or hold_music", c.Params("kind"))
	}
	return id, k, nil
}

// apiQueueAudio describes the queue's recordings (length, file name, who
// uploaded it and when).
func (s *Server) apiQueueAudio(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	store := s.queueStore()
	if _, err := store.Queue(c.UserContext(), id); err != nil {
		return queueStoreError(err)
	}
	list, err := store.AudioInfos(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recordings": list})
}

// apiQueueAudioUpload takes a WAV file (multipart field "file") and stores
// it as the queue's recording of that kind, replacing the earlier one; a
// file that is no usable WAV is a 400 with its reason.
func (s *Server) apiQueueAudioUpload(c *fiber.Ctx) error {
	id, kind, err := queueAudioParams(c)
	if err != nil {
		return err
	}
	pcmu, fileName, err := wavUpload(c)
	if err != nil {
		return err
	}
	u := sessionOf(c).User
	info, err := s.queueStore().SaveAudio(c.UserContext(), inbound.AudioUpload{Queue: id, Kind: kind, PCMU: pcmu,
		FileName: fileName, UploadedBy: u.Username, At: s.clock.Now()})
	if err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue recording uploaded", "queue", int64(id), "kind", string(kind), "file", info.FileName,
		"duration_ms", info.DurationMS, "by", u.Username)
	s.reloadInbound(c, fmt.Sprintf("upload queue %d %s", id, kind.Label()))
	return c.Status(fiber.StatusCreated).JSON(info)
}

// apiQueueAudioPlay answers the recording as callers hear it (a 16-bit
// 8 kHz WAV).
func (s *Server) apiQueueAudioPlay(c *fiber.Ctx) error {
	id, kind, err := queueAudioParams(c)
	if err != nil {
		return err
	}
	a, err := s.queueStore().Audio(c.UserContext(), id, kind)
	if err != nil {
		return queueStoreError(err)
	}
	return sendRecording(c, a.FileName, a.PCMU)
}

// apiQueueAudioDelete removes a recording: callers who arrive afterwards
// hear the queue without it.
func (s *Server) apiQueueAudioDelete(c *fiber.Ctx) error {
	id, kind, err := queueAudioParams(c)
	if err != nil {
		return err
	}
	if err := s.queueStore().DeleteAudio(c.UserContext(), id, kind); err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue recording removed", "queue", int64(id), "kind", string(kind), "by", sessionOf(c).User.Username)
	s.reloadInbound(c, fmt.Sprintf("remove queue %d %s", id, kind.Label()))
	return c.SendStatus(fiber.StatusNoContent)
}
