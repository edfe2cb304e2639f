package agents

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// An agent's SIP phone (issue 13): Pacer calls it when the agent joins a
// campaign and keeps that leg up for the session. The phone is found either
// through its REGISTER binding (the agent's SIP password, digest-checked by
// dialer/sip's registrar against the HA1 kept here) or through a fixed
// contact URI; a live registration wins over the fixed URI.

// ErrNoUser is returned for an agent id that names no user.
var ErrNoUser = errors.New("no such user")

// ErrNoPhone is returned by PhoneContact for an agent with neither a live
// registration nor a fixed URI.
var ErrNoPhone = errors.New("no SIP phone")

// Phone is what is known about one user's phone.
type Phone struct {
	Agent ID
	// Username is the user's login name, which is also their SIP username.
	Username string
	Role     string
	Disabled bool
	// Realm is where HA1 is good; both are "" when no SIP password is set.
	Realm string
	HA1   string
	// FixedURI is the contact to call when no registration is live ("" none).
	FixedURI string
	// Registrations are the live bindings, newest first.
	Registrations []Registration
}

// HasSIPPassword says whether the phone may REGISTER.
func (p Phone) HasSIPPassword() bool { return p.HA1 != "" }

// Registration is one live REGISTER binding.
type Registration struct {
	Agent ID
	// Contact is the URI the phone asked to be called at.
	Contact string
	// Source is where the REGISTER came from: INVITEs to the phone are sent
	// there (NAT), and INVITEs from there are accepted.
	Source    netip.AddrPort
	Transport string // udp, tcp, tls, ws or wss
	ExpiresAt time.Time
	// Node is the node whose registrar took the REGISTER.
	Node         string
	UserAgent    string
	RegisteredAt time.Time
}

// Contact is where to call an agent's phone.
type Contact struct {
	URI string
	// Registered is true for a REGISTER binding (then Source and Transport
	// say where to send), false for a fixed URI (sent where the URI says).
	Registered bool
	Source     netip.AddrPort
	Transport  string
	ExpiresAt  time.Time
}

// DefaultRealm is the digest realm when none is configured.
const DefaultRealm = "pacer"

// Limits of what is stored.
const (
	maxPhoneURI    = 256
	maxContactURI  = 512
	maxUserAgent   = 256
	minSIPPassword = 8
	maxSIPPassword = 128
	maxRealm       = 63
)

// HA1 is the RFC 2617 digest HA1 of a user's password in a realm, in lower hex.
func HA1(username, realm, password string) string {
	sum := md5.Sum([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// CheckSIPPassword says what is wrong with a SIP password, if anything. A
// desk phone's keypad must be able to type it, so printable ASCII only.
func CheckSIPPassword(p string) error {
	if len(p) < minSIPPassword {
		return fmt.Errorf("a SIP password needs at least %d characters", minSIPPassword)
	}
	if len(p) > maxSIPPassword {
		return fmt.Errorf("a SIP password has at most %d characters", maxSIPPassword)
	}
	for _, r := range p {
		if r < 0x21 || r > 0x7e {
			return errors.New("a SIP password holds printable ASCII characters only (no spaces or control characters)")
		}
	}
	return nil
}

// CheckRealm says what is wrong with a digest realm, if anything.
func CheckRealm(realm string) error {
	if realm == "" || len(realm) > maxRealm {
		return fmt.Errorf("a SIP realm has 1 to %d characters", maxRealm)
	}
	for i, r := range realm {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			return fmt.Errorf("SIP realm %q: letters, digits, '.', '_' and '-' only, starting with a letter or digit", realm)
		}
	}
	return nil
}

// CheckPhoneURI says what is wrong with a fixed phone URI, if anything. It
// goes into a Request-URI and a To header, so nothing that could break a
// header line or the angle brackets around it is let through: sipgo does
// no validation of its own.
func CheckPhoneURI(uri string) error { return checkSIPURI(uri, maxPhoneURI) }

func checkSIPURI(uri string, max int) error {
	if len(uri) > max {
		return fmt.Errorf("a phone URI has at most %d characters", max)
	}
	for _, r := range uri {
		if r <= 0x20 || r == 0x7f || r == '<' || r == '>' || r == '"' || r == '\\' || r > 0x7e {
			return fmt.Errorf("phone URI %q: no spaces, control characters (CR, LF, NUL), quotes, backslashes, angle brackets or non-ASCII", uri)
		}
	}
	lower := strings.ToLower(uri)
	var rest string
	switch {
	case strings.HasPrefix(lower, "sip:"):
		rest = uri[4:]
	case strings.HasPrefix(lower, "sips:"):
		rest = uri[5:]
	default:
		return fmt.Errorf("phone URI %q: must start with sip or sips (sip:user@host)", uri)
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		if i == 0 {
			return fmt.Errorf("phone URI %q: empty user before @", uri)
		}
		rest = rest[i+1:]
	}
	host := rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fmt.Errorf("phone URI %q: unclosed IPv6 address", uri)
		}
		if _, err := netip.ParseAddr(rest[1:end]); err != nil {
			return fmt.Errorf("phone URI %q: bad IPv6 address", uri)
		}
		host, rest = rest[:end+1], rest[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("phone URI %q: junk after the IPv6 address", uri)
		}
		rest = strings.TrimPrefix(rest, ":")
	} else if i := strings.IndexByte(rest, ':'); i >= 0 {
		host, rest = rest[:i], rest[i+1:]
	} else {
		rest = ""
	}
	if host == "" {
		return fmt.Errorf("phone URI %q: no host", uri)
	}
	if !strings.HasPrefix(host, "[") {
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
				return fmt.Errorf("phone URI %q: host %q is not a host name or IP address", uri, host)
			}
		}
	}
	if rest != "" || strings.HasSuffix(host, ":") {
		port, err := strconv.Atoi(rest)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("phone URI %q: port must be 1-65535", uri)
		}
	}
	return nil
}

// URIHost is the IP address of a SIP URI's host when it is an IP literal.
func URIHost(uri string) (netip.Addr, bool) {
	rest := uri
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			a, err := netip.ParseAddr(rest[1:end])
			return a, err == nil
		}
		return netip.Addr{}, false
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	a, err := netip.ParseAddr(rest)
	return a, err == nil
}
