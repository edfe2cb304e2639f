package agents

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

func addPhoneUser(t *testing.T, db *pgxpool.Pool, username, role string) ID {
	t.Helper()
	var id int64
	require.NoError(t, db.QueryRow(context.Background(), `INSERT INTO users (username, role, password_hash)
		VALUES ($1, $2, '$2a$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') RETURNING id`, username, role).Scan(&id))
	return ID(id)
}

// A SIP password is kept only as its digest HA1 under the realm; a fixed
// URI is validated; a live registration wins over the fixed URI, and an
// expired one is ignored; clearing one half keeps the other.
func TestAgentPhoneStoreKeepsOnlyHA1AndPrefersLiveRegistration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addPhoneUser(t, db, "ann", "agent")
	sup := addPhoneUser(t, db, "sup", "supervisor")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

	_, err := PhoneContact(ctx, db, ann, now)
	require.ErrorIs(t, err, ErrNoPhone)
	require.ErrorContains(t, err, "agent ann")

	require.ErrorContains(t, SetSIPPassword(ctx, db, SIPPassword{Agent: ann, Password: "short"}), "at least 8")
	require.ErrorContains(t, SetSIPPassword(ctx, db, SIPPassword{Agent: ann, Password: "has space in it"}), "printable ASCII")
	require.ErrorContains(t, SetSIPPassword(ctx, db, SIPPassword{Agent: sup, Password: "long-enough"}), "only agents have SIP phones")
	require.ErrorIs(t, SetSIPPassword(ctx, db, SIPPassword{Agent: 999999999, Password: "long-enough"}), ErrNoUser)
	require.NoError(t, SetSIPPassword(ctx, db, SIPPassword{Agent: ann, Password: "phone-secret"}))

	var stored string
	require.NoError(t, db.QueryRow(ctx, `SELECT row_to_json(p)::text FROM agent_phones p`).Scan(&stored))
	require.NotContains(t, stored, "phone-secret")
	p, err := GetPhone(ctx, db, ann, now)
	require.NoError(t, err)
	require.Equal(t, "pacer", p.Realm)
	require.Equal(t, HA1("ann", "pacer", "phone-secret"), p.HA1)
	require.Equal(t, "939e7578ed9e3c518a452acee763bce9", HA1("Mufasa", "testrealm@host.com", "Circle Of Life"), "RFC 2617's example")
	_, err = PhoneContact(ctx, db, ann, now)
	require.ErrorIs(t, err, ErrNoPhone, "a password alone is not a contact until the phone registers")

	for _, bad := range []string{"http://x", "sip:", "sip:ann@", "sip:a\r\nVia: x@h", "sip:a@h\x00", "sip:a@h:0", "sip:a@h:99999",
		"sip:<a@h>", "sip:a b@h", "sip:" + strings.Repeat("a", 260) + "@h", "sip:a@[::1"} {
		require.Error(t, SetPhoneURI(ctx, db, ann, bad), "%q", bad)
	}
	require.NoError(t, SetPhoneURI(ctx, db, ann, "sip:agent1@10.0.0.5:5060;transport=udp"))
	c, err := PhoneContact(ctx, db, ann, now)
	require.NoError(t, err)
	require.Equal(t, Contact{URI: "sip:agent1@10.0.0.5:5060;transport=udp"}, c)

	src := netip.MustParseAddrPort("192.0.2.7:5062")
	require.NoError(t, SaveRegistration(ctx, db, Registration{Agent: ann, Contact: "sip:ann@192.168.1.20:5062", Source: src,
		Transport: "UDP", ExpiresAt: now.Add(time.Hour), Node: "n1", UserAgent: "Desk\r\nPhone", RegisteredAt: now}))
	c, err = PhoneContact(ctx, db, ann, now)
	require.NoError(t, err)
	c.ExpiresAt = c.ExpiresAt.UTC()
	require.Equal(t, Contact{URI: "sip:ann@192.168.1.20:5062", Registered: true, Source: src, Transport: "udp",
		ExpiresAt: now.Add(time.Hour)}, c)
	p, err = GetPhone(ctx, db, ann, now)
	require.NoError(t, err)
	require.Len(t, p.Registrations, 1)
	require.Equal(t, "DeskPhone", p.Registrations[0].UserAgent, "control characters from the phone are dropped")

	srcs, err := PhoneSources(ctx, db, now)
	require.NoError(t, err)
	require.ElementsMatch(t, []netip.Addr{netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("10.0.0.5")}, srcs)

	// An hour later the binding is dead: the fixed URI is used again.
	c, err = PhoneContact(ctx, db, ann, now.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, c.Registered)
	n, err := DeleteExpiredRegistrations(ctx, db, now.Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	// Clearing the password keeps the URI; clearing both leaves no phone.
	require.NoError(t, SaveRegistration(ctx, db, Registration{Agent: ann, Contact: "sip:ann@192.168.1.20:5062", Source: src,
		Transport: "udp", ExpiresAt: now.Add(time.Hour), Node: "n1", RegisteredAt: now}))
	require.NoError(t, ClearSIPPassword(ctx, db, ann))
	p, err = GetPhone(ctx, db, ann, now)
	require.NoError(t, err)
	require.False(t, p.HasSIPPassword())
	require.Empty(t, p.Registrations, "a phone without a password has no bindings")
	require.Equal(t, "sip:agent1@10.0.0.5:5060;transport=udp", p.FixedURI)
	require.NoError(t, ClearPhoneURI(ctx, db, ann))
	var rows int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM agent_phones`).Scan(&rows))
	require.Zero(t, rows)
	_, err = PhoneContact(ctx, db, ann, now)
	require.ErrorIs(t, err, ErrNoPhone)

	byName, err := PhoneByUsername(ctx, db, "ANN")
	require.NoError(t, err)
	require.Equal(t, ann, byName.Agent)
	_, err = PhoneByUsername(ctx, db, "nobody")
	require.ErrorIs(t, err, ErrNoUser)
}

// The database refuses a phone row that could not work, whoever writes it.
func TestAgentPhoneTableRefusesImpossibleRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addPhoneUser(t, db, "ann", "agent")
	for _, q := range []string{
		`INSERT INTO agent_phones (agent_id) VALUES ($1)`,
		`INSERT INTO agent_phones (agent_id, sip_ha1) VALUES ($1, '0123456789abcdef0123456789abcdef')`,
		`INSERT INTO agent_phones (agent_id, sip_ha1, sip_realm) VALUES ($1, 'password', 'pacer')`,
		`INSERT INTO agent_phones (agent_id, fixed_uri) VALUES ($1, E'sip:a@h\r\nX: y')`,
		`INSERT INTO agent_phones (agent_id, fixed_uri) VALUES ($1, 'tel:+15551234')`,
	} {
		_, err := db.Exec(ctx, q, int64(ann))
		require.Error(t, err, q)
	}
}

// Whatever CheckPhoneURI accepts can go between angle brackets in a header
// line: no byte that ends a line or the brackets, and a sip: or sips: scheme.
func FuzzCheckPhoneURI(f *testing.F) {
	for _, s := range []string{"sip:agent1@10.0.0.5:5060", "sips:a@[::1]:5061;transport=tls", "sip:a@h\r\nX: y", "sip:a@h>", "sip:@h",
		"SIP:A@HOST", "sip:a@h:0", "sip:a@h?subject=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if CheckPhoneURI(uri) != nil {
			return
		}
		require.NotContains(t, uri, "\r")
		require.NotContains(t, uri, "\n")
		require.NotContains(t, uri, "\x00")
		require.NotContains(t, uri, ">")
		require.NotContains(t, uri, "<")
		require.NotContains(t, uri, " ")
		lower := strings.ToLower(uri)
		require.True(t, strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"), uri)
		require.LessOrEqual(t, len(uri), 256)
	})
}
