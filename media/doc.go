// Package media moves audio: RTP sockets from a port range (pion/rtp), the
// bridge that relays a customer leg to an agent's nailed-up leg while keeping
// the agent's stream continuous, G.711 µ-law/A-law, paced prompts and tones,
// RFC 4733 DTMF, recording and answering-machine detection.
//
// It knows nothing about campaigns, agents or calls' business meaning and
// imports no other Pacer package.
package media
