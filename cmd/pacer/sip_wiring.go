package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sip"
	"github.com/pacer-dialer/pacer/media"
)

// sipOptions are serve's flags for real calls: the node's SIP user agent
// and the RTP ports of its calls.
type sipOptions struct {
	addr        string
	publicAddr  string
	rtpPorts    string
	mediaPublic string
}

func (o *sipOptions) register(fs *flagSet) {
	fs.StringVar(&o.addr, "sip-addr", ":5060", "SIP listen address, UDP and TCP (\"off\": no SIP; campaigns with a trunk cannot run on this node)")
	fs.StringVar(&o.publicAddr, "sip-public-addr", "", "host:port carriers and phones send SIP to, written in Via and Contact (default: the listen address, or this host's address when it listens on all)")
	fs.StringVar(&o.rtpPorts, "rtp-ports", "20000-29999", "UDP port range of calls' RTP (each call leg takes an even port)")
	fs.StringVar(&o.mediaPublic, "media-public-addr", "", "IP address written in SDP for RTP (behind NAT: the public address; default: the SIP public host)")
}

func (o sipOptions) off() bool { return o.addr == "off" || o.addr == "" }

// portRange parses "LO-HI".
func portRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(a)
		if err == nil {
			hi, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || hi-lo < 1 {
		return 0, 0, usageError{fmt.Sprintf("--rtp-ports %q must be LO-HI within 1024-65535", s)}
	}
	return lo, hi, nil
}

// sipNode is the node's SIP side: the user agent (bound before anything
// else, so a second process on the same port fails before it changed
// anything), then, once the database is open, the registrar of agents'
// phones and the keeper of their legs.
type sipNode struct {
	ua     *sip.UA
	reg    atomic.Pointer[sip.Registrar]
	phones *sip.Phones
	log    *slog.Logger
}

// startSIPUA binds the node's SIP sockets.
func startSIPUA(ctx context.Context, o sipOptions, logger *slog.Logger) (*sipNode, error) {
	if o.off() {
		logger.Info("SIP is off (--sip-addr off): campaigns on a trunk cannot run on this node")
		return nil, nil
	}
	lo, hi, err := portRange(o.rtpPorts)
	if err != nil {
		return nil, err
	}
	ports, err := media.NewPorts(lo, hi)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--rtp-ports: %v", err)}
	}
	n := &sipNode{log: logger}
	mc := sip.MediaConfig{Ports: ports}
	if o.mediaPublic != "" {
		if mc.PublicIP, err = netip.ParseAddr(o.mediaPublic); err != nil {
			return nil, usageError{fmt.Sprintf("--media-public-addr %q is not an IP address", o.mediaPublic)}
		}
	}
	ua, err := sip.New(sip.Config{Addr: o.addr, PublicAddr: o.publicAddr, Media: mc, Logger: logger,
		KnownSource: func(a netip.Addr) bool {
			r := n.reg.Load()
			return r != nil && r.KnownSource(a)
		}})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if err := ua.Start(ctx); err != nil {
		return nil, fmt.Errorf("listen for SIP on %s (set --sip-addr, or --sip-addr off): %w", o.addr, err)
	}
	n.ua = ua
	return n, nil
}

// startPhones starts the registrar and the phone legs' keeper on the
// database.
func (n *sipNode) startPhones(ctx context.Context, pool *pgxpool.Pool, node string) error {
	reg, err := sip.NewRegistrar(pool, sip.RegistrarConfig{Node: node, Logger: n.log})
	if err != nil {
		return err
	}
	if err := reg.Start(ctx); err != nil {
		return err
	}
	n.reg.Store(reg)
	n.ua.SetRegisterHandler(reg.HandleRegister)
	phones, err := sip.NewPhones(pool, sip.PhonesConfig{DialogUA: n.ua.DialogUA(), HandleDialog: n.ua.HandleDialog,
		NewMedia: n.ua.NewMedia, Host: n.ua.Host(), Logger: n.log})
	if err != nil {
		return err
	}
	n.phones = phones
	return nil
}

// stopPhones hangs up the phone legs still up and stops the registrar,
// while the database is still open.
func (n *sipNode) stopPhones() {
	if n.phones != nil {
		n.phones.Stop()
	}
	n.ua.SetRegisterHandler(nil)
	if r := n.reg.Load(); r != nil {
		r.Stop()
	}
}

// stop closes the sockets, after every call and phone leg has ended.
func (n *sipNode) stop() {
	if n != nil {
		n.ua.Stop()
	}
}

// trunk is a campaign's trunk: the simulated carrier when it names no
// trunk, else SIP through its trunks in priority order (disabled ones
// skipped), with its recorded information message and hold music.
func (n *sipNode) trunk(ctx context.Context, pool *pgxpool.Pool, c *campaigns.Campaign, del dialer.TrunkDeliverer,
	simulated func() dialer.Trunk) (dialer.Trunk, error) {
	ts, err := campaigns.CampaignTrunks(ctx, pool, c.ID)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return simulated(), nil
	}
	if n == nil {
		return nil, fmt.Errorf("campaign %q dials through trunk %s but SIP is off on this node (--sip-addr off)", c.Name, ts[0].Name)
	}
	if err := campaigns.CheckCarrier(ctx, pool, *c); err != nil {
		return nil, err
	}
	cfgs, err := sipTrunks(c, ts)
	if err != nil {
		return nil, err
	}
	audio, err := loadCampaignAudio(ctx, pool, c.ID)
	if err != nil {
		return nil, err
	}
	log := n.log.With("campaign", int64(c.ID))
	ct := &campaignTrunk{phones: n.phones, del: del, joined: map[agents.ID]bool{}, log: log, pool: pool,
		campaign: c.ID, seen: c.UpdatedAt}
	ct.audio.Store(&audio)
	st, err := n.ua.Trunk(int64(c.ID), cfgs, del, sip.TrunkOptions{AgentLegs: n.phones, Prompts: ct.prompt,
		HoldMusic: audio.hold, OnDTMF: ct.customerDTMF, Logger: log})
	if err != nil {
		return nil, err
	}
	ct.Trunk = st
	ct.unsubscribe = n.phones.Subscribe(ct.phoneEvent)
	return ct, nil
}

// sipTrunks is the SIP side's view of a campaign's enabled trunks.
func sipTrunks(c *campaigns.Campaign, ts []campaigns.Trunk) ([]sip.TrunkConfig, error) {
	var cfgs []sip.TrunkConfig
	for _, t := range ts {
		if !t.Enabled {
			continue
		}
		cfgs = append(cfgs, sip.TrunkConfig{Name: t.Name, URI: t.URI, Username: t.Username, Password: t.Password,
			MaxChannels: t.MaxChannels, CPS: t.CPS, CallerIDHeader: string(t.CallerIDHeader),
			TransferMethod: string(t.TransferMethod)})
	}
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("campaign %q: every one of its trunks is disabled", c.Name)
	}
	return cfgs, nil
}

// campaignAudio is a campaign's recordings as the SIP trunk plays them.
type campaignAudio struct {
	info *media.Prompt // nil: none recorded
	hold *media.Prompt // nil: the generated music
}

func loadCampaignAudio(ctx context.Context, pool *pgxpool.Pool, id campaigns.ID) (campaignAudio, error) {
	var a campaignAudio
	for _, k := range []struct {
		get func(context.Context, campaigns.DB, campaigns.ID) (campaigns.Audio, error)
		dst **media.Prompt
	}{{campaigns.InfoMessage, &a.info}, {campaigns.HoldMusic, &a.hold}} {
		rec, err := k.get(ctx, pool, id)
		if errors.Is(err, campaigns.ErrNotFound) {
			continue
		}
		if err != nil {
			return a, fmt.Errorf("campaign %d recordings: %w", id, err)
		}
		*k.dst = media.NewPrompt(media.PCMU.Decode(nil, rec.PCMU))
	}
	return a, nil
}

// campaignTrunk is a campaign's SIP trunk with its agents' phones: the
// engine joins and leaves agents (dialer.AgentPhones), and the legs' ups and
// downs reach the campaign's loop as trunk events.
type campaignTrunk struct {
	*sip.Trunk
	phones      *sip.Phones
	del         dialer.TrunkDeliverer
	log         *slog.Logger
	unsubscribe func()
	pool        *pgxpool.Pool
	campaign    campaigns.ID
	audio       atomic.Pointer[campaignAudio]

	mu        sync.Mutex
	joined    map[agents.ID]bool
	seen      time.Time // the campaign's updated_at the trunks and recordings are from
	reloading bool
}

var _ dialer.CampaignWatcher = (*campaignTrunk)(nil)

// prompt is what the engine's Play names: the information message is the
// only prompt a campaign plays.
func (t *campaignTrunk) prompt(string) (*media.Prompt, bool) {
	a := t.audio.Load()
	return a.info, a.info != nil
}

// CampaignChanged reloads the campaign's trunks and recordings when its row
// says they changed (their changes move updated_at): a manager's change
// applies to the next call, mid-shift, without a restart.
func (t *campaignTrunk) CampaignChanged(c campaigns.Campaign) {
	t.mu.Lock()
	if c.UpdatedAt.Equal(t.seen) || t.reloading {
		t.mu.Unlock()
		return
	}
	t.reloading = true
	t.mu.Unlock()
	go func() {
		ok := t.reload(c)
		t.mu.Lock()
		t.reloading = false
		if ok {
			t.seen = c.UpdatedAt
		}
		t.mu.Unlock()
	}()
}

func (t *campaignTrunk) reload(c campaigns.Campaign) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts, err := campaigns.CampaignTrunks(ctx, t.pool, t.campaign)
	if err == nil && len(ts) == 0 {
		t.log.Warn("the campaign's trunks were all taken off while it runs on them: it keeps dialling its last trunks until it is paused and started again")
		return true
	}
	var cfgs []sip.TrunkConfig
	if err == nil {
		cfgs, err = sipTrunks(&c, ts)
	}
	if err == nil {
		err = t.SetTrunks(cfgs)
	}
	var audio campaignAudio
	if err == nil {
		audio, err = loadCampaignAudio(ctx, t.pool, t.campaign)
	}
	if err != nil {
		t.log.Error("reload the campaign's trunks and recordings; the next poll tries again", "err", err)
		return false
	}
	t.audio.Store(&audio)
	t.SetHoldMusic(audio.hold)
	t.log.Info("campaign's trunks and recordings reloaded", "trunks", len(cfgs), "info_message", audio.info != nil,
		"hold_music", audio.hold != nil)
	return true
}

var _ dialer.AgentPhones = (*campaignTrunk)(nil)

func (t *campaignTrunk) JoinAgent(ctx context.Context, id agents.ID) error {
	if err := t.phones.Join(ctx, id); err != nil {
		if errors.Is(err, agents.ErrNoPhone) {
			return dialer.ErrNoPhone
		}
		return err
	}
	t.mu.Lock()
	t.joined[id] = true
	t.mu.Unlock()
	if t.phones.State(id) == sip.PhoneUp { // still up from the agent's last session on this node
		t.del.DeliverTrunk(t.del.Now(), dialer.TrunkEvent{Kind: dialer.TrunkPhoneUp, Agent: id})
	}
	return nil
}

// LeaveAgent starts hanging the phone up and returns: the engine's
// goroutine must not wait for the phone to answer the BYE. The leg is let go
// of here and now, so a Join that follows (the agent moving to another
// campaign) is never undone by this one.
func (t *campaignTrunk) LeaveAgent(_ context.Context, id agents.ID) {
	t.mu.Lock()
	delete(t.joined, id)
	t.mu.Unlock()
	t.phones.Hangup(id)
}

func (t *campaignTrunk) phoneEvent(ev sip.PhoneEvent) {
	t.mu.Lock()
	mine := t.joined[ev.Agent]
	t.mu.Unlock()
	if !mine {
		return
	}
	switch ev.State {
	case sip.PhoneUp:
		t.del.DeliverTrunk(t.del.Now(), dialer.TrunkEvent{Kind: dialer.TrunkPhoneUp, Agent: ev.Agent})
	case sip.PhoneDown:
		reason := "agent's phone disconnected"
		if ev.Err != nil {
			reason = "agent's phone: " + ev.Err.Error()
		}
		if len(reason) > dialer.MaxCauseReason {
			reason = reason[:dialer.MaxCauseReason]
		}
		t.del.DeliverTrunk(t.del.Now(), dialer.TrunkEvent{Kind: dialer.TrunkPhoneDown, Agent: ev.Agent,
			Cause: dialer.Cause{Q850: 41, Reason: reason}})
	}
}

// customerDTMF reports a key the customer pressed to the campaign's loop,
// which shows it on the agent's screen.
func (t *campaignTrunk) customerDTMF(call dialer.CallID, digit rune) {
	t.del.DeliverTrunk(t.del.Now(), dialer.TrunkEvent{Kind: dialer.TrunkDTMF, Call: call, Digit: digit})
}

// Close lets go of the agents' phones when the campaign's loop stops (its
// agents were logged out, which hung their phones up).
func (t *campaignTrunk) Close() { t.unsubscribe() }
