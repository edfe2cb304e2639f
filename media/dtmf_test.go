package media

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// keys collects digits from OnDTMF.
type keys struct {
	mu sync.Mutex
	s  string
}

func (k *keys) add(d rune) { k.mu.Lock(); k.s += string(d); k.mu.Unlock() }
func (k *keys) get() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.s
}

// checkEvents checks RFC 4733 packets as a phone would read them: per key,
// one timestamp, the marker on the first packet, durations that grow,
// then the end bit on three packets with the final duration; and returns
// the keys.
func checkEvents(t *testing.T, pkts []rtp.Packet, pt uint8) string {
	t.Helper()
	var out string
	for i := 0; i < len(pkts); {
		p := pkts[i]
		require.Equal(t, pt, p.PayloadType, "packet %d: the negotiated payload type", i)
		require.True(t, p.Marker, "packet %d: an event starts with the marker", i)
		ts, ev := p.Timestamp, p.Payload[0]
		out += string(dtmfDigits[ev])
		var last uint16
		ends := 0
		for ; i < len(pkts) && pkts[i].Timestamp == ts; i++ {
			q := pkts[i]
			require.Equal(t, ev, q.Payload[0])
			dur := binary.BigEndian.Uint16(q.Payload[2:])
			if q.Payload[1]&0x80 != 0 {
				ends++
				require.GreaterOrEqual(t, dur, last)
				require.GreaterOrEqual(t, dur, uint16(800), "at least 100 ms")
			} else {
				require.Zero(t, ends, "no tone packet after an end packet")
				require.Greater(t, dur, last, "duration grows")
			}
			last = dur
		}
		require.Equal(t, 3, ends, "the end packet is sent three times")
	}
	return out
}

// SendDTMF sends RFC 4733 events with the payload type the far end
// negotiated (96 as sipp's play_dtmf, 101 as its pcaps); another leg
// reading them reports each key once although every event arrives as
// several packets with three end packets.
func TestDTMFSentWithNegotiatedPayloadTypeAndReportedOncePerKey(t *testing.T) {
	for _, pt := range []int{96, 101} {
		t.Run(fmt.Sprint(pt), func(t *testing.T) {
			noLeaks(t)
			ports := testPorts(t)
			phone := newPeer(t)
			l := answerPeer(t, ports, phone, []int{0}, pt, 20)
			require.NoError(t, l.SendDTMF("1#"))
			require.NoError(t, l.SendDTMF("9"), "queued after the first")
			testwait.Until(t, func() bool { return l.Stats().PacketsOut == 3*(4+3) }, "21 event packets: 4 growing, 3 ends per key")
			testwait.Until(t, func() bool { return phone.count() == 21 }, "all received")
			got := phone.received()
			require.Equal(t, "1#9", checkEvents(t, got, uint8(pt)))
			for i := 1; i < len(got); i++ {
				require.Equal(t, uint16(1), got[i].SequenceNumber-got[i-1].SequenceNumber)
				require.Equal(t, got[0].SSRC, got[i].SSRC)
			}

			// Pacer to Pacer: leg a offers, leg b answers with the same
			// payload type; what a sends, b reports once per key.
			a := newTestLeg(t, ports, LegConfig{})
			b := newTestLeg(t, ports, LegConfig{})
			var heard keys
			b.OnDTMF(heard.add)
			ans, err := b.Answer(a.Offer())
			require.NoError(t, err)
			require.NoError(t, a.ApplyAnswer(ans))
			require.EqualValues(t, 101, a.Format().DTMF)
			require.NoError(t, a.SendDTMF("*0D"))
			testwait.Until(t, func() bool { return heard.get() == "*0D" }, "heard %q", heard.get())
		})
	}
}

// An OnDTMF callback may close its own leg (it runs on the leg's reader).
func TestOnDTMFMayCloseItsLeg(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone := newPeer(t)
	l := answerPeer(t, ports, phone, []int{0}, 101, 20)
	l.OnDTMF(func(rune) { l.Close() })
	phone.send(l.LocalAddr(), 101, []byte{11, 10, 0, 160})
	select {
	case <-l.Done():
	case <-testwait.Expired(t):
		t.Fatal("the leg did not close")
	}
	require.NoError(t, l.Err())
}

func TestSendDTMFRefusesWhatCannotBeSent(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone := newPeer(t)
	l := answerPeer(t, ports, phone, []int{0}, 0, 20)
	require.ErrorIs(t, l.SendDTMF("1"), ErrNoDTMF)
	l2 := answerPeer(t, ports, phone, []int{0}, 101, 20)
	require.Error(t, l2.SendDTMF("12x"))
	require.Zero(t, l2.Stats().PacketsOut)
}

// sipp's dtmf_2833 captures (payload type 101) from a carrier are reported
// once per key on the customer leg, and relayed to the agent's phone with
// the phone's payload type (96), not the carrier's.
func TestDTMFFromSippCapturesReportedOnceAndRelayedWithPhonesPayloadType(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 101, 20)
	agent := answerPeer(t, ports, phone, []int{0}, 96, 20)
	var heard keys
	cust.OnDTMF(heard.add)
	NewBridge(cust, agent)

	sent := 0
	for i, name := range []string{"5", "pound", "0"} {
		frames := pcapUDPPayloads(t, "/usr/share/sip-tester/dtmf_2833_"+name+".pcap")
		for _, f := range frames {
			// Each capture starts its own stream; give them one SSRC and
			// distinct timestamps as one carrier's stream would have.
			var p rtp.Packet
			require.NoError(t, p.Unmarshal(f))
			require.EqualValues(t, 101, p.PayloadType)
			p.SSRC = carrier.ssrc
			p.Timestamp += uint32(i) * 8000
			p.SequenceNumber += uint16(i) * 100
			b, err := p.Marshal()
			require.NoError(t, err)
			carrier.sendRaw(cust.LocalAddr(), b)
			sent++
		}
	}
	testwait.Until(t, func() bool { return heard.get() == "5#0" }, "heard %q", heard.get())
	testwait.Until(t, func() bool { return phone.count() == sent }, "relayed %d of %d", phone.count(), sent)
	for _, p := range phone.received() {
		require.EqualValues(t, 96, p.PayloadType, "the phone's telephone-event type")
	}
	// A phone without telephone-event gets no event packets.
	quiet := newPeer(t)
	agent2 := answerPeer(t, ports, quiet, []int{0}, 0, 20)
	NewBridge(cust, agent2)
	frames := pcapUDPPayloads(t, "/usr/share/sip-tester/dtmf_2833_star.pcap")
	for _, f := range frames {
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(f))
		p.SSRC, p.Timestamp, p.SequenceNumber = carrier.ssrc, p.Timestamp+80000, p.SequenceNumber+1000
		b, _ := p.Marshal()
		carrier.sendRaw(cust.LocalAddr(), b)
	}
	testwait.Until(t, func() bool { return heard.get() == "5#0*" }, "heard %q", heard.get())
	carrier.send(cust.LocalAddr(), 0, tone(160, 3))
	testwait.Until(t, func() bool { return quiet.count() == 1 }, "audio still relayed")
	require.EqualValues(t, 0, quiet.received()[0].PayloadType)
}
