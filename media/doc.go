// Package media moves audio: RTP legs on ports from a range (pion/rtp), SDP
// offers and answers (pion/sdp/v3), the bridge that relays a customer leg to
// an agent's nailed-up leg while keeping the agent's stream continuous,
// G.711 µ-law/A-law (PCMU<->PCMA by table), paced prompts (one, or a
// Program: an intro, then a loop with an interjection every so often) and
// generated hold music, RFC 4733 DTMF both ways, and a mixing conference with a small
// jitter buffer. DecodeWAV and EncodeWAV (wav.go) read the recordings
// managers upload (converted to 8 kHz) and write them back for listening.
//
// It knows nothing about campaigns, agents or calls' business meaning and
// imports no other Pacer package (its tests use internal/testwait and
// internal/benchout).
//
// What it owns:
//   - Sockets: one UDP socket per Leg, on an even port handed out by Ports
//     (the odd port is left free for RTCP, which we do not send). The port
//     returns to Ports when the leg's reader exits.
//   - Goroutines: one reader per Leg, started by NewLeg, exiting when the leg
//     closes (Close, media timeout, socket error); Leg.Done is closed by it
//     as it exits. Relaying runs on the readers: a Bridge has no goroutine,
//     and a packet is read, restamped and written on one goroutine with no
//     allocation. One package-wide pacer goroutine sends everything
//     generated (prompts, hold music, DTMF, conference mixes) for all legs
//     from one timer; it starts with the first job and exits when none is
//     left, so a process with no prompt playing and no conference has none.
//
// Streams: each leg sends one SSRC with continuous sequence numbers and
// timestamps for its whole life; whatever feeds it is restamped into it.
// A source change (a new customer, an unmute, a prompt's start or end)
// continues the sequence numbers and advances the timestamp by the time
// that passed, in whole packets, with the marker bit set. Gaps a source
// had (packets it lost) stay gaps. The relay does not repacketise: a
// carrier's 30 ms packets reach the phone as 30 ms packets. A leg in no
// bridge or conference keeps the last audio packet it read; a new bridge
// sends it across at once when it is under 50 ms old (the customer's first
// word when the agent is bridged just after the answer), on the leg's
// reader, which NewBridge wakes for it.
//
// Received audio may be PCMU or PCMA whatever was negotiated (it is
// transcoded by table on the way out); comfort noise (payload type 13)
// keeps the leg alive and is not relayed; anything else not negotiated is
// garbage, counted and dropped.
//
// Symmetric RTP: a leg sends to its SDP address until three consecutive
// in-order packets come from another address, then there. A later SDP with
// the same address (a hold or resume re-INVITE) keeps the locked address.
//
// Media timeout: it does not run until the far end's SDP is applied (an
// outbound leg rings with no RTP), nor while SetHold(true), nor while the
// far end's last SDP direction is anything but sendrecv (a far end that
// said sendonly is holding us and may send nothing; media-api.md said
// "sendonly/inactive", recvonly is added since such a far end sends
// nothing either). SetHold(true) also makes Offer say a=sendonly, for the
// hold re-INVITE, and narrows Answer to sendonly or inactive. A leg does
// not send while the far end's direction is sendonly or inactive.
//
// Additions to media-api.md (nothing there changed): Leg.PlayProgram and
// Program, Leg.RemoteAddr,
// NewPromptG711, LegStats.Stray, Bridge.Relayed, Conference.Members,
// LegConfig.WithDefaults and Validate, ErrClosed, ErrNoPorts, ErrNoDTMF,
// the Direction constants.
package media
