// Package media moves audio: RTP legs on ports from a range (pion/rtp), SDP
// offers and answers (pion/sdp/v3), the bridge that relays a customer leg to
// an agent's nailed-up leg while keeping the agent's stream continuous, and
// G.711 µ-law/A-law (with PCMU<->PCMA transcoding by table).
//
// It knows nothing about campaigns, agents or calls' business meaning and
// imports no other Pacer package.
//
// What it owns:
//   - Sockets: one UDP socket per Leg, on an even port handed out by Ports
//     (the odd port is left free for RTCP, which we do not send). The socket
//     closes, and the port returns to Ports, when the leg closes.
//   - Goroutines: one reader per Leg, started by NewLeg, exiting when the leg
//     closes (Close, media timeout, socket error); Leg.Done is closed after
//     it exits. Relaying runs on the readers (a Bridge has no goroutine).
//
// Streams: each leg sends one SSRC with continuous sequence numbers and
// timestamps for its whole life; whatever feeds it is restamped into it.
// A source change (a new customer, an unmute) continues the sequence
// numbers and advances the timestamp by the time that passed, in whole
// packets, with the marker bit set. The relay does not repacketise: a
// carrier's 30 ms packets reach the phone as 30 ms packets.
//
// Media timeout: suspended while SetHold(true) and while the far end's
// last SDP direction is anything but sendrecv (a far end that said
// sendonly is holding us and may send nothing; the API note said
// "sendonly/inactive", recvonly is added for the same reason).
package media
