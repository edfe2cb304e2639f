package web

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A demo start gives an admin (admin/admin) who can open the jobs page, also
// on a database an earlier demo made without one; someone's real users are
// never joined by demo accounts.
func TestDemoSetupHasAnAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dummy := dummyHash(bcrypt.MinCost)

	db := testdb.NewPool(t)
	created, err := EnsureDemoUsers(ctx, db, bcrypt.MinCost)
	require.NoError(t, err)
	require.Len(t, created, 8)
	u, err := checkPassword(ctx, db, "admin", "admin", dummy)
	require.NoError(t, err, "admin logs in with password admin")
	require.Equal(t, RoleAdmin, u.Role)
	created, err = EnsureDemoUsers(ctx, db, bcrypt.MinCost)
	require.NoError(t, err)
	require.Empty(t, created, "a second start creates nothing")

	// An earlier demo's database: the demo accounts of then, no admin.
	old := testdb.NewPool(t)
	for _, d := range DemoUsers()[:7] {
		_, err := CreateUser(ctx, old, NewUser{Username: d.Username, Role: d.Role, Password: d.Password,
			Cost: bcrypt.MinCost, AllowShort: true})
		require.NoError(t, err)
	}
	created, err = EnsureDemoUsers(ctx, old, bcrypt.MinCost)
	require.NoError(t, err)
	require.Equal(t, []DemoUser{{"admin", "admin", RoleAdmin}}, created)
	_, err = checkPassword(ctx, old, "admin", "admin", dummy)
	require.NoError(t, err)

	// A real setup: one user of its own, or a demo account disabled.
	real := testdb.NewPool(t)
	_, err = CreateUser(ctx, real, NewUser{Username: "boss", Role: RoleManager, Password: "a long password",
		Cost: bcrypt.MinCost})
	require.NoError(t, err)
	created, err = EnsureDemoUsers(ctx, real, bcrypt.MinCost)
	require.NoError(t, err)
	require.Empty(t, created)
	n, err := CountUsers(ctx, real)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	locked := testdb.NewPool(t)
	m, err := CreateUser(ctx, locked, NewUser{Username: "manager", Role: RoleManager, Password: "manager",
		Cost: bcrypt.MinCost, AllowShort: true})
	require.NoError(t, err)
	require.NoError(t, SetDisabled(ctx, locked, m.ID, true))
	created, err = EnsureDemoUsers(ctx, locked, bcrypt.MinCost)
	require.NoError(t, err)
	require.Empty(t, created, "a disabled demo account means someone locked the demo down")
}
