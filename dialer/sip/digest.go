package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// Server-side digest authentication (RFC 2617 / RFC 3261 §22) on
// github.com/icholy/digest, which sipgo uses for the client side: sipgo has
// no server-side helper. Nonces are stateless: a timestamp, random bytes and
// an HMAC under a per-process key, so checking one needs no table and an
// expired one is told apart from a forged one (stale=true only for the first).
// Replay: the highest nonce count seen per nonce is kept until the nonce
// expires, and a request that does not raise it is answered as stale (the
// phone retries with a new nonce; a captured REGISTER cannot be replayed).

// digestAuth issues and checks digest challenges for one realm.
type digestAuth struct {
	realm string
	ttl   time.Duration
	key   [32]byte

	mu   sync.Mutex
	used map[string]usedNonce // by nonce, until it expires
}

type usedNonce struct {
	nc      int
	expires time.Time
}

func newDigestAuth(realm string, ttl time.Duration) (*digestAuth, error) {
	d := &digestAuth{realm: realm, ttl: ttl, used: map[string]usedNonce{}}
	if _, err := rand.Read(d.key[:]); err != nil {
		return nil, fmt.Errorf("digest nonce key: %w", err)
	}
	return d, nil
}

const (
	nonceRandom = 12
	nonceMAC    = 16
	nonceLen    = 8 + nonceRandom + nonceMAC
)

// nonce is a new nonce issued at now.
func (d *digestAuth) nonce(now time.Time) string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	if _, err := rand.Read(b[8 : 8+nonceRandom]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // crypto/rand.Read does not fail on supported platforms
	}
	copy(b[8+nonceRandom:], d.mac(b[:8+nonceRandom]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (d *digestAuth) mac(b []byte) []byte {
	m := hmac.New(sha256.New, d.key[:])
	m.Write(b)
	return m.Sum(nil)[:nonceMAC]
}

// nonceState says whether a nonce is ours and still fresh at now.
type nonceState int

const (
	nonceForged nonceState = iota
	nonceStale
	nonceFresh
)

func (d *digestAuth) checkNonce(nonce string, now time.Time) nonceState {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[8+nonceRandom:], d.mac(b[:8+nonceRandom])) {
		return nonceForged
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if now.Sub(issued) > d.ttl || issued.After(now.Add(time.Minute)) {
		return nonceStale
	}
	return nonceFresh
}

// challenge is a WWW-Authenticate value with a fresh nonce.
func (d *digestAuth) challenge(now time.Time, stale bool) string {
	c := digest.Challenge{Realm: d.realm, Nonce: d.nonce(now), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

// verdict is the outcome of checking an Authorization header.
type verdict int

const (
	// authOK: the response matches the user's HA1.
	authOK verdict = iota
	// authStale: the response may be right but the nonce expired; the
	// phone should retry with the new nonce (stale=true), not ask its user.
	authStale
	// authWrong: wrong password, a nonce we never issued, or a mangled
	// header. Counted towards throttling.
	authWrong
)

// check verifies credentials for method against ha1 (hex MD5 of
// username:realm:password).
func (d *digestAuth) check(cred *digest.Credentials, method, ha1 string, now time.Time) verdict {
	if cred.Realm != d.realm {
		return authWrong
	}
	switch a := cred.Algorithm; a {
	case "", "MD5", "md5":
	default:
		return authWrong
	}
	if cred.QOP != "" && cred.QOP != "auth" {
		return authWrong
	}
	chal := &digest.Challenge{Realm: d.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP == "auth" {
		chal.QOP = []string{"auth"}
		if cred.Cnonce == "" || cred.Nc <= 0 {
			return authWrong
		}
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Count: cred.Nc, Cnonce: cred.Cnonce,
		Username: cred.Username, A1: ha1})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1 {
		return authWrong
	}
	switch d.checkNonce(cred.Nonce, now) {
	case nonceFresh:
		if !d.countUse(cred.Nonce, cred.Nc, now) {
			return authStale
		}
		return authOK
	case nonceStale:
		return authStale
	default:
		return authWrong
	}
}

// countUse records a use of a fresh nonce with count nc (0 without qop);
// false when it is not above every count seen for that nonce: a replay, or a
// phone that does not count (it gets a new nonce).
func (d *digestAuth) countUse(nonce string, nc int, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.used) > 10_000 {
		for n, u := range d.used {
			if now.After(u.expires) {
				delete(d.used, n)
			}
		}
	}
	if u, ok := d.used[nonce]; ok && nc <= u.nc {
		return false
	}
	d.used[nonce] = usedNonce{nc: nc, expires: now.Add(d.ttl)}
	return true
}
