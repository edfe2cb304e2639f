package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// The server side agrees with icholy/digest's client (what sipgo sends) on
// the right password, and refuses a wrong one, a forged nonce, another realm
// and a tampered URI; an expired nonce is stale, not wrong.
func TestDigestCheckAgreesWithTheClientSide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	d, err := newDigestAuth("pacer", 5*time.Minute)
	require.NoError(t, err)
	ha1 := agents.HA1("ann", "pacer", "right-secret")
	answer := func(challenge, password string, mod func(*digest.Credentials)) *digest.Credentials {
		chal, err := digest.ParseChallenge(challenge)
		require.NoError(t, err)
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "ann", Password: password})
		require.NoError(t, err)
		if mod != nil {
			mod(cred)
		}
		parsed, err := digest.ParseCredentials(cred.String())
		require.NoError(t, err)
		return parsed
	}
	ch := d.challenge(now, false)
	require.Contains(t, ch, `realm="pacer"`)
	require.Contains(t, ch, `qop="auth"`)
	require.NotContains(t, ch, "stale")
	require.Contains(t, d.challenge(now, true), "stale=true")

	right := answer(ch, "right-secret", nil)
	require.Equal(t, authOK, d.check(right, "REGISTER", ha1, now.Add(time.Minute)))
	require.Equal(t, authStale, d.check(right, "REGISTER", ha1, now.Add(time.Minute)), "a replay gets a new nonce, not a binding")
	chal, err := digest.ParseChallenge(ch)
	require.NoError(t, err)
	second, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "ann", Password: "right-secret",
		Count: 2})
	require.NoError(t, err)
	require.Equal(t, authOK, d.check(second, "REGISTER", ha1, now.Add(time.Minute)), "the same nonce with a higher count is fine")
	require.Equal(t, authWrong, d.check(answer(ch, "wrong-secret", nil), "REGISTER", ha1, now))
	require.Equal(t, authWrong, d.check(answer(ch, "right-secret", nil), "INVITE", ha1, now), "the method is signed")
	require.Equal(t, authStale, d.check(answer(ch, "right-secret", nil), "REGISTER", ha1, now.Add(6*time.Minute)))
	require.Equal(t, authWrong, d.check(answer(ch, "wrong-secret", nil), "REGISTER", ha1, now.Add(6*time.Minute)),
		"a wrong password with an old nonce is wrong, not stale")

	other, err := newDigestAuth("pacer", 5*time.Minute)
	require.NoError(t, err)
	forged := other.challenge(now, false)
	require.Equal(t, authWrong, d.check(answer(forged, "right-secret", nil), "REGISTER", ha1, now), "a nonce we never issued")
	require.Equal(t, authWrong, d.check(answer(strings.Replace(ch, `realm="pacer"`, `realm="other"`, 1), "right-secret", nil),
		"REGISTER", ha1, now))
	require.Equal(t, authWrong, d.check(answer(ch, "right-secret", func(c *digest.Credentials) { c.URI = "sip:evil" }),
		"REGISTER", ha1, now))
	require.Equal(t, nonceForged, d.checkNonce("not-base64!", now))
}
