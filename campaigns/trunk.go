package campaigns

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TrunkID identifies a SIP trunk.
type TrunkID int64

// CallerIDHeader is where a trunk's carrier reads the caller ID: the From
// header, or P-Asserted-Identity (RFC 3325) for carriers that take the
// presented number from there and want From left to the account.
type CallerIDHeader string

// Caller ID headers.
const (
	CallerIDFrom CallerIDHeader = "from"
	CallerIDPAI  CallerIDHeader = "pai"
)

// TransferMethod is how a blind transfer to a number leaves a call on the
// trunk: a new call bridged to the customer's, or REFER to the carrier.
type TransferMethod string

// Transfer methods.
const (
	TransferBridge TransferMethod = "bridge"
	TransferRefer  TransferMethod = "refer"
)

// Transport is the SIP transport to a trunk.
type Transport string

// Transports a trunk may use (no TLS yet).
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
)

// Trunk defaults: what a new trunk gets when the manager does not say.
const (
	DefaultTrunkChannels = 30
	DefaultTrunkCPS      = 10.0
	maxTrunkChannels     = 100000
	maxTrunkCPS          = 10000.0
	// MaxCampaignTrunks is how many trunks one campaign may fail over across.
	MaxCampaignTrunks = 100
)

// Trunk is one SIP carrier account (table trunks). Password is the digest
// secret in clear — Pacer answers the carrier's challenges, so it needs the
// secret itself — and is never serialized: JSON shows only password_set.
type Trunk struct {
	ID             TrunkID        `json:"id"`
	Name           string         `json:"name"`
	URI            string         `json:"uri"`
	Username       string         `json:"username"`
	Password       string         `json:"-"`
	PasswordSet    bool           `json:"password_set"`
	MaxChannels    int            `json:"max_channels"`
	CPS            float64        `json:"cps"`
	CallerIDHeader CallerIDHeader `json:"caller_id_header"`
	TransferMethod TransferMethod `json:"transfer_method"`
	Enabled        bool           `json:"enabled"`
	// Campaigns names the campaigns that dial through this trunk.
	Campaigns []string  `json:"campaigns"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Target is the trunk's parsed URI: where INVITEs go, and how.
func (t Trunk) Target() (TrunkURI, error) { return ParseTrunkURI(t.URI) }

// TrunkURI is a parsed sip:HOST[:PORT][;transport=udp|tcp].
type TrunkURI struct {
	Host      string // a DNS name, an IPv4 address or an IPv6 address (without brackets)
	Port      int    // 5060 when the URI gives none
	Transport Transport
}

// String is the URI in its canonical form, port and transport spelled out.
func (u TrunkURI) String() string {
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("sip:%s:%d;transport=%s", host, u.Port, u.Transport)
}

// HostPort is HOST:PORT, bracketing an IPv6 host.
func (u TrunkURI) HostPort() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

var (
	dnsName   = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))*\.?$`)
	trunkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// ParseTrunkURI checks a trunk's address: sip:HOST[:PORT][;transport=udp|tcp],
// with no user part, password or other parameters (the number dialled goes
// into the user part of each INVITE's Request-URI).
func ParseTrunkURI(s string) (TrunkURI, error) {
	bad := func(why string) (TrunkURI, error) {
		return TrunkURI{}, fmt.Errorf("trunk URI %q: %s (expected sip:HOST[:PORT][;transport=udp|tcp], e.g. sip:sip.carrier.example:5060;transport=udp)", s, why)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return bad("spaces and control characters are not allowed")
	}
	rest, ok := strings.CutPrefix(s, "sip:")
	if !ok {
		if strings.HasPrefix(strings.ToLower(s), "sips:") {
			return bad("sips (TLS) is not supported yet")
		}
		return bad("it must start with sip:")
	}
	u := TrunkURI{Port: 5060, Transport: TransportUDP}
	if addr, params, ok := strings.Cut(rest, ";"); ok {
		rest = addr
		t, ok := strings.CutPrefix(strings.ToLower(params), "transport=")
		switch {
		case !ok:
			return bad(fmt.Sprintf("unknown parameter %q", params))
		case t == "udp" || t == "tcp":
			u.Transport = Transport(t)
		default:
			return bad(fmt.Sprintf("transport %q is not supported (udp or tcp)", t))
		}
	}
	if strings.Contains(rest, "@") {
		return bad("give the carrier's host only; the user name goes in --username")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return bad("unclosed [ in an IPv6 address")
		}
		host, port = rest[1:end], rest[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return bad("junk after the IPv6 address")
		}
		port = strings.TrimPrefix(port, ":")
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return bad(fmt.Sprintf("%q is not an IPv6 address", host))
		}
	} else {
		if h, p, ok := strings.Cut(rest, ":"); ok {
			host, port = h, p
		}
		if _, err := netip.ParseAddr(host); err != nil && (!dnsName.MatchString(host) || len(host) > 253) {
			return bad(fmt.Sprintf("%q is not a host name or IP address", host))
		}
	}
	if host == "" {
		return bad("the host is missing")
	}
	if port != "" || strings.HasSuffix(rest, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad(fmt.Sprintf("port %q is not a number from 1 to 65535", port))
		}
		u.Port = n
	}
	u.Host = host
	return u, nil
}

// TrunkSpec is what a manager gives to add or change a trunk; nil fields are
// left as they are (or take their defaults on add). An empty Password
// removes the password; an empty Username does too.
type TrunkSpec struct {
	Name           *string
	URI            *string
	Username       *string
	Password       *string
	MaxChannels    *int
	CPS            *float64
	CallerIDHeader *string
	TransferMethod *string
	Enabled        *bool
}

// TrunkError is a trunk setting the store refuses; Field names it as the
// CLI flag and the API's JSON key do (with _ for -). It wraps
// ErrInputInvalid.
type TrunkError struct {
	Field   string
	Message string
}

func (e *TrunkError) Error() string { return e.Message }

// Unwrap makes a TrunkError an ErrInputInvalid.
func (e *TrunkError) Unwrap() error { return ErrInputInvalid }

func trunkError(field, format string, args ...any) error {
	return &TrunkError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrTrunkInUse is wrapped by the error of removing a trunk that campaigns
// still dial through; the error names them.
var ErrTrunkInUse = errors.New("trunk in use")

// TrunkInUseError names the campaigns that keep a trunk from being removed.
type TrunkInUseError struct {
	Trunk     string
	Campaigns []string
}

func (e *TrunkInUseError) Error() string {
	return fmt.Sprintf("trunk %q is in use by campaign(s) %s: take it off them first", e.Trunk, strings.Join(e.Campaigns, ", "))
}

// Unwrap makes a TrunkInUseError an ErrTrunkInUse.
func (e *TrunkInUseError) Unwrap() error { return ErrTrunkInUse }

// headerSafe refuses what must never reach a SIP header: control
// characters (CR and LF would start a new header) and, inside a quoted
// digest parameter, quotes and backslashes.
func headerSafe(field, v string, quoted bool) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return trunkError(field, "%s must not contain control characters (CR, LF, NUL, tab…)", field)
	}
	if quoted && strings.ContainsAny(v, `"\`) {
		return trunkError(field, `%s must not contain " or \`, field)
	}
	if len(v) > 128 {
		return trunkError(field, "%s must be at most 128 characters", field)
	}
	return nil
}

// apply changes t by s and checks the result.
func (s TrunkSpec) apply(t *Trunk) error {
	if s.Name != nil {
		t.Name = strings.TrimSpace(*s.Name)
	}
	if s.URI != nil {
		t.URI = strings.TrimSpace(*s.URI)
	}
	if s.Username != nil {
		t.Username = *s.Username
	}
	if s.Password != nil {
		t.Password = *s.Password
	}
	if s.MaxChannels != nil {
		t.MaxChannels = *s.MaxChannels
	}
	if s.CPS != nil {
		t.CPS = *s.CPS
	}
	if s.CallerIDHeader != nil {
		t.CallerIDHeader = CallerIDHeader(strings.ToLower(strings.TrimSpace(*s.CallerIDHeader)))
	}
	if s.TransferMethod != nil {
		t.TransferMethod = TransferMethod(strings.ToLower(strings.TrimSpace(*s.TransferMethod)))
	}
	if s.Enabled != nil {
		t.Enabled = *s.Enabled
	}
	return t.validate()
}

func (t *Trunk) validate() error {
	if !trunkName.MatchString(t.Name) {
		return trunkError("name", "trunk name %q refused: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", t.Name)
	}
	if _, err := ParseTrunkURI(t.URI); err != nil {
		return trunkError("uri", "%v", err)
	}
	if len(t.URI) > 300 {
		return trunkError("uri", "trunk URI is longer than 300 characters")
	}
	if err := headerSafe("username", t.Username, true); err != nil {
		return err
	}
	if err := headerSafe("password", t.Password, false); err != nil {
		return err
	}
	if t.Password != "" && t.Username == "" {
		return trunkError("username", "a password needs a username: digest authentication sends both")
	}
	if t.MaxChannels < 1 || t.MaxChannels > maxTrunkChannels {
		return trunkError("max_channels", "max_channels %d refused: 1 to %d simultaneous calls", t.MaxChannels, maxTrunkChannels)
	}
	if math.IsNaN(t.CPS) || t.CPS <= 0 || t.CPS > maxTrunkCPS || math.Round(t.CPS*100) == 0 {
		return trunkError("cps", "cps %g refused: calls per second must be above 0 (at least 0.01) and at most %g", t.CPS, maxTrunkCPS)
	}
	t.CPS = math.Round(t.CPS*100) / 100
	switch t.CallerIDHeader {
	case CallerIDFrom, CallerIDPAI:
	default:
		return trunkError("caller_id_header", "caller_id_header %q refused: from or pai (P-Asserted-Identity)", t.CallerIDHeader)
	}
	switch t.TransferMethod {
	case TransferBridge, TransferRefer:
	default:
		return trunkError("transfer_method", "transfer_method %q refused: bridge (a new call bridged to the customer) or refer (REFER to the carrier)", t.TransferMethod)
	}
	return nil
}

// ParseTrunkNames splits a priority-ordered trunk list as the CLI and the
// console give it ("a,b" or several values); empty entries are dropped, so ""
// is no trunk (the simulated carrier).
func ParseTrunkNames(values ...string) []string {
	var out []string
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}
