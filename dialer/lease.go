package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Campaign leases (DESIGN.md §7): each active campaign is owned by one node
// through a row in campaign_leases with an expiry judged by the database's
// clock and an epoch from a sequence that grows at every acquisition. The
// hopper's claims carry the owner's node and epoch and are refused unless
// that lease is the campaign's current, unexpired one (campaigns.Hopper), so
// an owner that was paused (GC, network) while another took over can place
// no call.
//
// A lease is taken only when it is free: never held, released by its owner
// (campaign stopped, node shutting down), held by a node that stopped or
// died and whose work has been recovered, or expired and held by a name no
// node registered (a tool or test running a Manager without a Node). An owner that could not renew for
// a while (a database outage) renews its own lease with the same epoch when
// the database is back, since no one else could have taken it meanwhile.

// ErrLeaseHeld is returned by AcquireLease when another node owns the campaign.
var ErrLeaseHeld = errors.New("campaign is owned by another node")

// ErrLeaseLost is returned by RenewLease when the lease is no longer this
// owner's (someone took it over, or it was edited by hand).
var ErrLeaseLost = errors.New("campaign lease lost")

// Lease is one node's ownership of one campaign.
type Lease struct {
	Campaign CampaignID
	Node     string
	Epoch    int64
	// Expires is the database's expiry of the lease when last renewed.
	Expires time.Time
}

const (
	acquireLeaseSQL = `
INSERT INTO campaign_leases AS cl (campaign_id, node_id, epoch, acquired_at, renewed_at, expires_at)
VALUES ($1, $2, nextval('lease_epochs'), now(), now(), now() + make_interval(secs => $3))
ON CONFLICT (campaign_id) DO UPDATE SET node_id = EXCLUDED.node_id, epoch = EXCLUDED.epoch,
	acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
WHERE cl.node_id = '' OR cl.node_id = EXCLUDED.node_id
   OR EXISTS (SELECT 1 FROM nodes n WHERE n.id = cl.node_id AND (n.stopped_at IS NOT NULL OR n.recovered_at IS NOT NULL))
   OR (cl.expires_at <= now() AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = cl.node_id))
RETURNING epoch, expires_at`

	renewLeaseSQL = `
UPDATE campaign_leases SET renewed_at = now(), expires_at = now() + make_interval(secs => $4)
WHERE campaign_id = $1 AND node_id = $2 AND epoch = $3
RETURNING expires_at`

	releaseLeaseSQL = `
UPDATE campaign_leases SET node_id = '', renewed_at = greatest(now(), acquired_at), expires_at = greatest(now(), acquired_at)
WHERE campaign_id = $1 AND node_id = $2 AND epoch = $3`
)

// AcquireLease takes the campaign for node with a new epoch, or fails with
// ErrLeaseHeld.
func AcquireLease(ctx context.Context, db campaigns.DB, campaign CampaignID, node string, ttl time.Duration) (Lease, error) {
	l := Lease{Campaign: campaign, Node: node}
	err := db.QueryRow(ctx, acquireLeaseSQL, int64(campaign), node, ttl.Seconds()).Scan(&l.Epoch, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, fmt.Errorf("campaign %d: %w", campaign, ErrLeaseHeld)
	}
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease of campaign %d: %w", campaign, err)
	}
	return l, nil
}

// RenewLease extends the lease; ErrLeaseLost when it is no longer this one.
func RenewLease(ctx context.Context, db campaigns.DB, l Lease, ttl time.Duration) (Lease, error) {
	err := db.QueryRow(ctx, renewLeaseSQL, int64(l.Campaign), l.Node, l.Epoch, ttl.Seconds()).Scan(&l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("campaign %d epoch %d: %w", l.Campaign, l.Epoch, ErrLeaseLost)
	}
	if err != nil {
		return l, fmt.Errorf("renew lease of campaign %d: %w", l.Campaign, err)
	}
	return l, nil
}

// ReleaseLease frees the campaign for any node to take at once.
func ReleaseLease(ctx context.Context, db campaigns.DB, l Lease) error {
	if _, err := db.Exec(ctx, releaseLeaseSQL, int64(l.Campaign), l.Node, l.Epoch); err != nil {
		return fmt.Errorf("release lease of campaign %d: %w", l.Campaign, err)
	}
	return nil
}

const (
	ownerNodeSQL = `
SELECT n.id, n.http_addr FROM campaign_leases l JOIN nodes n ON n.id = l.node_id
WHERE l.campaign_id = $1 AND l.expires_at > now()
  AND n.stopped_at IS NULL AND n.recovered_at IS NULL AND n.expires_at > now()`

	ownedCampaignsSQL = `
SELECT l.campaign_id FROM campaign_leases l JOIN nodes n ON n.id = l.node_id
WHERE l.expires_at > now() AND n.stopped_at IS NULL AND n.recovered_at IS NULL AND n.expires_at > now()
ORDER BY l.campaign_id`
)

// OwnerNode is the live node owning the campaign now and its HTTP address,
// or campaigns.ErrNotFound.
func OwnerNode(ctx context.Context, db campaigns.DB, campaign CampaignID) (node, addr string, err error) {
	err = db.QueryRow(ctx, ownerNodeSQL, int64(campaign)).Scan(&node, &addr)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("no live node owns campaign %d: %w", campaign, campaigns.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("owner of campaign %d: %w", campaign, err)
	}
	return node, addr, nil
}

// OwnedCampaigns lists the campaigns some live node owns.
func OwnedCampaigns(ctx context.Context, db campaigns.DB) ([]CampaignID, error) {
	rows, err := db.Query(ctx, ownedCampaignsSQL)
	if err != nil {
		return nil, fmt.Errorf("owned campaigns: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("owned campaigns: %w", err)
	}
	out := make([]CampaignID, len(ids))
	for i, id := range ids {
		out[i] = CampaignID(id)
	}
	return out, nil
}
