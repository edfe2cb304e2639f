package sip

import (
	"net"
	"strconv"

	"github.com/pacer-dialer/pacer/media"
)

// Addr is the UDP address the UA listens on (the port bound, when Config.Addr
// asked for port 0); empty before Start.
func (u *UA) Addr() string {
	if u.udp == nil {
		return ""
	}
	return u.udp.LocalAddr().String()
}

// NewMedia makes an RTP leg on the node's media ports and addresses: what
// other components (agents' phone legs) carry their audio on.
func (u *UA) NewMedia() (*media.Leg, error) { return u.NewMediaLeg(u.log.With("leg", "phone")) }

// Host is the SIP host written in our Via and Contact: where phones and
// carriers reach this node.
func (u *UA) Host() string { return u.host }

// PublicAddr is host:port where carriers and other nodes reach this UA:
// the host and port of our Contact.
func (u *UA) PublicAddr() string {
	c := u.Contact()
	return net.JoinHostPort(c.Address.Host, strconv.Itoa(c.Address.Port))
}
