package dialer

import (
	"context"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Reconfigure applies a campaign's changed settings to the running loop on
// its goroutine, without a restart: the engine takes the new configuration
// and policy built by EngineConfig (Engine.Reconfigure says what changes
// and what calls in flight keep), and dispositions see the new campaign
// (SetCampaign). The loop's own engine settings that do not come from the
// campaign (tick, line cap) are kept. On error nothing changed.
func (l *Loop) Reconfigure(ctx context.Context, c campaigns.Campaign) error {
	cfg, pol, err := EngineConfig(&c)
	if err != nil {
		return err
	}
	return l.do(ctx, func(ctx context.Context) error {
		cur := l.eng.Config()
		cfg.Tick, cfg.MaxLinesPerAgent = cur.Tick, cur.MaxLinesPerAgent
		if err := l.eng.Reconfigure(ctx, cfg, pol); err != nil {
			return err
		}
		l.SetCampaign(c)
		return nil
	})
}
