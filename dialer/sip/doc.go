// Package sip is Pacer's SIP side, built on github.com/emiago/sipgo: the
// node's user agent (UA), the dialer.Trunk that places customer calls
// through SIP carriers, and the callers who dial in from those carriers.
//
// What it owns:
//   - Sockets: one UDP and one TCP socket on Config.Addr (default :5060),
//     bound by UA.Start and closed by UA.Stop. Requests over UDP leave from
//     the UDP socket; over TCP (a trunk URI with ;transport=tcp) from a new
//     connection, answered on it. Each call's RTP socket is its media.Leg's,
//     from Config.Media.Ports.
//   - Goroutines: sipgo's readers and transaction timers, two serving
//     goroutines (UDP, TCP), and one goroutine per call leg. A leg's
//     goroutine owns its dialog and its RTP leg (closed when the call ends)
//     from the first INVITE until the call is over: ringing (no media
//     timeout yet), CANCEL on ring timeout (half a second before the
//     engine's, so a 200 crossing the CANCEL reaches the engine as an answer)
//     or Hangup, the 200-after-CANCEL race (ACKed, reported as an answer, or
//     ACKed and hung up when the engine already hung up), failover to the
//     next trunk, the answered call (the far end's re-INVITEs answered with
//     the mirrored direction, 488 for SDP we cannot take; the 200 OK of a
//     re-INVITE retransmitted until its ACK, the call ended after
//     Config.AckTimeout without one; our hold re-INVITEs), BYE either way,
//     media timeout. It exits when the call ends. UA.Stop cancels every leg
//     (BYE to answered calls, CANCEL to ringing ones, bounded by
//     Config.ShutdownGrace), closes the sockets and waits for all of them.
//   - Controls (Bridge, Mute, Transfer to an agent, AddParty and Leave with
//     another agent, SendDTMF, Play) change the media wiring from the
//     engine's goroutine under the leg's lock. Hold and Resume are handed to
//     the leg's goroutine, which sends the re-INVITE and plays hold music.
//     A transfer or conference to a number starts a third leg (its own
//     goroutine, through the same trunks and limits) whose progress goes to
//     the customer leg's goroutine, which wires it in when it answers (until
//     then, and if it does not, the agent keeps the customer) and hangs it
//     up when the call ends. On a trunk whose TransferMethod is refer, a
//     transfer to a number is a REFER in the customer's dialog instead
//     (refer.go): the leg's goroutine sends it, one short goroutine waits
//     for its final response, the carrier's NOTIFYs come through the
//     dialog's handler; a NOTIFY saying 2xx ends our leg, a carrier that
//     refuses REFER gets the bridged transfer. A Hangup after Play sends its BYE when the
//     prompt has finished. The agents' phone legs are not ours:
//     TrunkOptions.AgentLegs lends them; prompts come from
//     TrunkOptions.Prompts.
//   - Callers from trunks (inbound.go, inbound_control.go): Callers, made
//     once per UA (NewCallers) and set as the inbound handler, takes each
//     new INVITE from a trunk host: the DID is the Request-URI's user part
//     (else To's), normalised by inbound.NormalizeDID; the caller is queued
//     with the router (CallerRouter.Arrive, keyed by a leg numbered from
//     CallerLegBase, which grows with the wall clock and lies above the
//     simulated callers' legs), 404 when no queue answers the number, else
//     180 Ringing for Ringback, then 200 with our SDP answer (a media.Leg
//     from the node's ports), then what their queue plays while they wait
//     (CallersConfig.Sounds, asked once when they are queued: the
//     welcome once, then the queue's music or HoldMusic with the comfort
//     message after every interval of it, as one media.Program). One goroutine
//     per caller owns the dialog and the RTP leg until the call is over
//     (the INVITE handler returns once the INVITE has its final response);
//     the caller's re-INVITEs are answered as a customer's are. While the
//     caller waits, their CANCEL or BYE (or a media timeout) is
//     Router.HungUp; Dismiss (the router sending them away) plays Goodbye
//     (the special information tone by default), then BYE. Any campaign's
//     Trunk of the node controls a caller's leg (IsCaller): Bridge stops
//     whatever plays and relays the caller and the agent's phone leg with the
//     same media.Bridge as a customer (made when the answer completes if
//     the agent took the caller during the ringback); from then on the
//     leg's hang-up goes to the loop of the campaign whose trunk bridged
//     it, as TrunkHungUp. Mute, Play, SendDTMF and Transfer to an agent
//     work as on a customer; Hold is music to the caller with their voice
//     held back from the agent (no re-INVITE); AddParty, Leave and
//     transfers to a number or queue are refused on callers. Close (serve,
//     once its campaigns have stopped) refuses new callers (503) and hangs
//     up those still here; the UA's Stop ends them as it ends every leg.
//   - Channels and rates: per trunk (by name, shared by every campaign of
//     the node dialling through it), the dialogs in use (MaxChannels, counted
//     until a cancelled INVITE's 487 arrived, not by engine calls), a
//     calls-per-second token bucket (CPS) and a growing back-off after 503s
//     and after a trunk that did not answer at all. A call waits up to
//     TrunkOptions.CPSWait (default 1 s) for a CPS slot; when every trunk
//     is full, throttled or backing off it fails at once with
//     dialer.CauseCongestion (no queue: the engine's pacing is the queue).

// Routing of incoming requests: a new INVITE from an address that is
// neither a configured trunk host nor accepted by Config.KnownSource gets
// 403; from a trunk it goes to the handler set with SetInboundHandler (480
// while none is set; cmd/pacer sets Callers.HandleInvite). REGISTER goes to SetRegisterHandler's handler (405
// while none). OPTIONS is answered 200. Requests inside a dialog (BYE,
// re-INVITE, ACK, INFO, NOTIFY, UPDATE, REFER, PRACK) go to the handler
// registered for their Call-ID with HandleDialog, 481 when none.
//
// For other components (agents' phone legs): DialogUA and Client give
// sipgo's dialog user agent and client sending from the node's sockets, so a
// component places its own dialogs; it registers each dialog's Call-ID with
// HandleDialog (before sending the INVITE) to receive the requests inside
// it, answers them itself, and releases it when the dialog ends. Contact is
// the node's Contact header; NewMediaLeg makes an RTP leg with the node's
// media addresses. The legs it makes are the component's to close.
//
// Header safety: sipgo validates nothing it writes (GHSA-chcx-pf5f-wxc7).
// Every value that goes into a header (numbers, caller IDs, trunk URIs and
// credentials) is checked for CR, LF, NUL and other control characters
// before a request is built; Trunk.Dial refuses such a call with an error
// wrapping dialer.ErrBadControl and sends nothing.
//
// Agents' phones: Registrar answers REGISTER with digest authentication
// (stateless expiring nonces, failures throttled per user and source) and
// keeps bindings in the agents package's tables, so any node finds a phone;
// Phones calls an agent's phone (registered contact, else fixed URI) with
// auto-answer headers when the agent joins, keeps that one leg up for the
// session (one goroutine per agent), redials it with back-off when it drops,
// and hands its media.Leg to the campaign Trunk for bridging (AgentLegs).
//
// Imports: dialer and agents (the Trunk seam, phones and registrations),
// inbound and dialer/blend (the router callers are queued with, and the
// numbering of inbound legs), media (RTP), sipgo and the standard library. It is wired by cmd/pacer; no
// other package imports it.
package sip
