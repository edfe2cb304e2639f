package media

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/stretchr/testify/require"
)

const offerHead = "v=0\r\no=carrier 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"

func TestAnswerNegotiatesCodecDTMFAndDirection(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	cases := []struct {
		name       string
		media      string
		want       Format
		wantDir    Direction // the far end's, as Direction() reports it
		answerDir  string
		answerFmts string
	}{
		{"pcmu first, event 101", "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
			Format{PCMU, 20 * time.Millisecond, 101}, SendRecv, "sendrecv", "0 101"},
		{"pcma first, event 96 as sipp's play_dtmf", "m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n",
			Format{PCMA, 20 * time.Millisecond, 96}, SendRecv, "sendrecv", "8 96"},
		{"unknown codec first, then pcma", "m=audio 4000 RTP/AVP 18 8\r\na=rtpmap:18 G729/8000\r\n",
			Format{PCMA, 20 * time.Millisecond, 0}, SendRecv, "sendrecv", "8"},
		{"30 ms ptime as sipp's g711a.pcap", "m=audio 4000 RTP/AVP 8\r\na=ptime:30\r\n",
			Format{PCMA, 30 * time.Millisecond, 0}, SendRecv, "sendrecv", "8"},
		{"silly ptime falls back to 20", "m=audio 4000 RTP/AVP 0\r\na=ptime:7\r\n",
			Format{PCMU, 20 * time.Millisecond, 0}, SendRecv, "sendrecv", "0"},
		{"hold: sendonly answered recvonly", "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
			Format{PCMU, 20 * time.Millisecond, 0}, SendOnly, "recvonly", "0"},
		{"recvonly answered sendonly", "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n",
			Format{PCMU, 20 * time.Millisecond, 0}, RecvOnly, "sendonly", "0"},
		{"inactive answered inactive", "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n",
			Format{PCMU, 20 * time.Millisecond, 0}, Inactive, "inactive", "0"},
		{"telephone-event at 48 kHz is not ours", "m=audio 4000 RTP/AVP 0 100 101\r\na=rtpmap:100 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n",
			Format{PCMU, 20 * time.Millisecond, 101}, SendRecv, "sendrecv", "0 101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newTestLeg(t, ports, LegConfig{})
			ans, err := l.Answer([]byte(offerHead + c.media))
			require.NoError(t, err)
			require.Equal(t, c.want, l.Format())
			require.Equal(t, c.wantDir, l.Direction())
			require.Equal(t, "192.0.2.10:4000", l.RemoteAddr().String())

			var sd sdp.SessionDescription
			require.NoError(t, sd.Unmarshal(ans), "our answer parses:\n%s", ans)
			require.Len(t, sd.MediaDescriptions, 1)
			m := sd.MediaDescriptions[0]
			require.Equal(t, int(l.LocalAddr().Port()), m.MediaName.Port.Value)
			require.Equal(t, c.answerFmts, strings.Join(m.MediaName.Formats, " "))
			_, ok := m.Attribute(c.answerDir)
			require.True(t, ok, "answer direction %s in\n%s", c.answerDir, ans)
			require.Equal(t, "127.0.0.1", sd.ConnectionInformation.Address.Address, "never c=0.0.0.0 in what we send")
			require.NoError(t, l.Close())
		})
	}
}

// While we hold the far end, an offer it sends (a session refresh, say) is
// answered without taking its audio.
func TestAnswerWhileHoldingStaysOnHold(t *testing.T) {
	noLeaks(t)
	l := newTestLeg(t, testPorts(t), LegConfig{})
	l.SetHold(true)
	for offered, want := range map[string]string{"sendrecv": "sendonly", "recvonly": "sendonly", "sendonly": "inactive", "inactive": "inactive"} {
		ans, err := l.Answer([]byte(offerHead + "m=audio 4000 RTP/AVP 0\r\na=" + offered + "\r\n"))
		require.NoError(t, err)
		require.Contains(t, string(ans), "a="+want+"\r\n", "offer %s", offered)
	}
}

func TestAnswerRefusesWhatWeCannotTalk(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	l := newTestLeg(t, ports, LegConfig{})
	cases := []struct {
		name string
		sdp  string
		want error
	}{
		{"empty", "", ErrBadSDP},
		{"not sdp", "hello\r\n", ErrBadSDP},
		{"truncated", "v=0\r\no=x 1\r\n", ErrBadSDP},
		{"no c= line", "v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", ErrBadSDP},
		{"c= is a host name", "v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", ErrBadSDP},
		{"payload type out of range", offerHead + "m=audio 4000 RTP/AVP 300\r\n", ErrBadSDP},
		{"only G.729", offerHead + "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", ErrNoCommonCodec},
		{"pcmu name on a dynamic type only", offerHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n", ErrNoCommonCodec},
		{"SRTP", offerHead + "m=audio 4000 RTP/SAVP 0\r\n", ErrNoCommonCodec},
		{"video only", offerHead + "m=video 4000 RTP/AVP 96\r\n", ErrNoCommonCodec},
		{"audio refused with port 0", offerHead + "m=audio 0 RTP/AVP 0\r\n", ErrNoCommonCodec},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ans, err := l.Answer([]byte(c.sdp))
			require.ErrorIs(t, err, c.want)
			require.Nil(t, ans)
		})
	}
	require.False(t, l.RemoteAddr().IsValid(), "a refused offer changes nothing")
}

// A video line next to the audio is refused with port 0 in its place.
func TestAnswerRefusesOtherMediaLinesInPlace(t *testing.T) {
	noLeaks(t)
	l := newTestLeg(t, testPorts(t), LegConfig{})
	ans, err := l.Answer([]byte(offerHead + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio 4000 RTP/AVP 0\r\n"))
	require.NoError(t, err)
	var sd sdp.SessionDescription
	require.NoError(t, sd.Unmarshal(ans))
	require.Len(t, sd.MediaDescriptions, 2)
	require.Equal(t, "video", sd.MediaDescriptions[0].MediaName.Media)
	require.Zero(t, sd.MediaDescriptions[0].MediaName.Port.Value)
	require.Equal(t, int(l.LocalAddr().Port()), sd.MediaDescriptions[1].MediaName.Port.Value)
}

func TestOfferAndApplyAnswer(t *testing.T) {
	noLeaks(t)
	l := newTestLeg(t, testPorts(t), LegConfig{})
	var sd sdp.SessionDescription
	require.NoError(t, sd.Unmarshal(l.Offer()))
	m := sd.MediaDescriptions[0]
	require.Equal(t, []string{"0", "8", "101"}, m.MediaName.Formats)
	require.Equal(t, int(l.LocalAddr().Port()), m.MediaName.Port.Value)
	_, ok := m.Attribute("sendrecv")
	require.True(t, ok)
	v1 := sd.Origin.SessionVersion

	l.SetHold(true)
	sd = sdp.SessionDescription{}
	require.NoError(t, sd.Unmarshal(l.Offer()))
	_, ok = sd.MediaDescriptions[0].Attribute("sendonly")
	require.True(t, ok, "a hold re-INVITE offers sendonly")
	require.Greater(t, sd.Origin.SessionVersion, v1, "each new SDP raises the session version")
	l.SetHold(false)

	require.NoError(t, l.ApplyAnswer([]byte(offerHead+"m=audio 4002 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n")))
	require.Equal(t, Format{PCMA, 20 * time.Millisecond, 101}, l.Format())
	require.Equal(t, RecvOnly, l.Direction())
	require.Equal(t, "192.0.2.10:4002", l.RemoteAddr().String())

	require.ErrorIs(t, l.ApplyAnswer([]byte(offerHead+"m=audio 4002 RTP/AVP 18\r\n")), ErrNoCommonCodec)
	require.ErrorIs(t, l.ApplyAnswer([]byte("junk")), ErrBadSDP)
	require.Equal(t, Format{PCMA, 20 * time.Millisecond, 101}, l.Format(), "a bad answer changes nothing")
}

// FuzzAnswer: whatever arrives in an INVITE, Answer does not panic, fails
// only with the two 488 errors, and what it answers parses and names our
// port and address.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(offerHead + "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\na=sendonly\r\n"))
	f.Add([]byte(offerHead + "m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 18 8\r\nc=IN IP6 ::1\r\n"))
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"))
	ports, err := NewPorts(30000+2*int(time.Now().UnixNano()%5000), 40000+2*int(time.Now().UnixNano()%5000))
	require.NoError(f, err)
	l, err := ports.NewLeg(LegConfig{BindIP: loopback})
	require.NoError(f, err)
	f.Cleanup(func() { l.Close() })
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, err := l.Answer(offer)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		var sd sdp.SessionDescription
		if err := sd.Unmarshal(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if !strings.Contains(string(ans), fmt.Sprintf("m=audio %d RTP/AVP ", l.LocalAddr().Port())) {
			t.Fatalf("answer lacks our audio line:\n%s", ans)
		}
		if strings.Contains(string(ans), "0.0.0.0") {
			t.Fatalf("answer says 0.0.0.0:\n%s", ans)
		}
	})
}
