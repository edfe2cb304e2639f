package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer/sip"
)

// The transfer method a manager sets on a trunk is the one the SIP trunk
// dials with.
func TestSIPTrunksCarryTheTransferMethod(t *testing.T) {
	t.Parallel()
	c := &campaigns.Campaign{Name: "Sales"}
	cfgs, err := sipTrunks(c, []campaigns.Trunk{
		{Name: "a", URI: "sip:127.0.0.1:5070", CallerIDHeader: campaigns.CallerIDFrom, TransferMethod: campaigns.TransferRefer, Enabled: true},
		{Name: "b", URI: "sip:127.0.0.1:5080", CallerIDHeader: campaigns.CallerIDFrom, TransferMethod: campaigns.TransferBridge, Enabled: true},
	})
	require.NoError(t, err)
	require.Equal(t, sip.TransferRefer, cfgs[0].TransferMethod)
	require.Equal(t, sip.TransferBridge, cfgs[1].TransferMethod)
	for _, cfg := range cfgs {
		require.NoError(t, cfg.Validate())
	}
}
