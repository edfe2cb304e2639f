package sip

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/pacer-dialer/pacer/media"
)

// MediaConfig is where calls' RTP legs come from.
type MediaConfig struct {
	// Ports hands out the RTP ports (required).
	Ports *media.Ports
	// BindIP is the local address RTP sockets bind (default: the SIP
	// address's host when it is an IP, else 0.0.0.0).
	BindIP netip.Addr
	// PublicIP goes into our SDP's c= line (default: the SIP public host
	// when it is an IP, else BindIP, else the address of the node's default
	// route).
	PublicIP netip.Addr
	// FirstPacketTimeout and PacketTimeout end a call whose far end sends
	// no RTP (defaults 30 s before the first packet, 15 s after; suspended
	// while the call is on hold).
	FirstPacketTimeout, PacketTimeout time.Duration
}

func (c MediaConfig) validate() error {
	if c.Ports == nil {
		return errors.New("sip: media ports are required (calls carry RTP)")
	}
	return nil
}

// mediaIPs settles BindIP and PublicIP once the SIP sockets are bound.
func (u *UA) mediaIPs() {
	m := &u.cfg.Media
	if !m.BindIP.IsValid() {
		host, _, _ := net.SplitHostPort(u.cfg.Addr)
		if ip, err := netip.ParseAddr(host); err == nil {
			m.BindIP = ip
		} else {
			m.BindIP = netip.IPv4Unspecified()
		}
	}
	if !m.PublicIP.IsValid() {
		switch {
		case u.public.Addr().IsValid() && !u.public.Addr().IsUnspecified():
			m.PublicIP = u.public.Addr()
		case !m.BindIP.IsUnspecified():
			m.PublicIP = m.BindIP
		default:
			m.PublicIP = outboundIP()
		}
	}
}

// NewMediaLeg makes an RTP leg from the node's media config (ports, bind
// and public IPs, timeouts): every call leg of ours is one, and other
// components (agents' phone legs) use it so their SDP names the same
// public address. log is the leg's logger.
func (u *UA) NewMediaLeg(log *slog.Logger) (*media.Leg, error) {
	m := u.cfg.Media
	return m.Ports.NewLeg(media.LegConfig{BindIP: m.BindIP, PublicIP: m.PublicIP,
		FirstPacketTimeout: m.FirstPacketTimeout, PacketTimeout: m.PacketTimeout, Logger: log})
}
