package campaigns_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A trunk transfers by bridge unless the manager says refer; anything else
// is refused naming the field, and the database refuses it too.
func TestTrunkTransferMethod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	a, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier-a"), URI: opt("sip:127.0.0.1:5070")})
	require.NoError(t, err)
	require.Equal(t, campaigns.TransferBridge, a.TransferMethod, "the default: what every carrier can do")
	b, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("carrier-b"), URI: opt("sip:127.0.0.1:5080"), TransferMethod: opt(" REFER ")})
	require.NoError(t, err)
	require.Equal(t, campaigns.TransferRefer, b.TransferMethod)

	_, err = campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: opt("c"), URI: opt("sip:x.example"), TransferMethod: opt("blind")})
	requireTrunkError(t, err, "transfer_method", `transfer_method "blind" refused: bridge`)
	_, err = campaigns.UpdateTrunk(ctx, db, a.ID, campaigns.TrunkSpec{TransferMethod: opt("")})
	requireTrunkError(t, err, "transfer_method", "refused")

	a, err = campaigns.UpdateTrunk(ctx, db, a.ID, campaigns.TrunkSpec{TransferMethod: opt("refer")})
	require.NoError(t, err)
	require.Equal(t, campaigns.TransferRefer, a.TransferMethod)
	got, err := campaigns.GetTrunkByName(ctx, db, "carrier-a")
	require.NoError(t, err)
	require.Equal(t, campaigns.TransferRefer, got.TransferMethod, "stored")
	a, err = campaigns.UpdateTrunk(ctx, db, a.ID, campaigns.TrunkSpec{CPS: opt(2.0)})
	require.NoError(t, err)
	require.Equal(t, campaigns.TransferRefer, a.TransferMethod, "a change of another field keeps it")

	_, err = db.Exec(ctx, `UPDATE trunks SET transfer_method = 'blind' WHERE id = $1`, a.ID)
	require.ErrorContains(t, err, "trunks_transfer_method_check")
}
