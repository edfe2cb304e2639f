package web

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// The server takes the bcrypt costs Pacer hashes with, the test-only low
// ones included, and refuses one bcrypt would quietly replace by its own
// default (below 4) or one that makes a login take seconds (above 14).
func TestBcryptCostRange(t *testing.T) {
	for cost, ok := range map[int]bool{0: true, 3: false, bcrypt.MinCost: true, WeakBcryptCost: true, 14: true, 15: false} {
		err := Config{Addr: ":0", BcryptCost: cost}.WithDefaults().Validate()
		if ok {
			require.NoError(t, err, "cost %d", cost)
		} else {
			require.ErrorContains(t, err, "outside 4..14", "cost %d", cost)
		}
	}
	// The hash a login for an unknown user is compared against costs what
	// a real user's does.
	h := dummyHash(bcrypt.MinCost)()
	cost, err := bcrypt.Cost(h)
	require.NoError(t, err)
	require.Equal(t, bcrypt.MinCost, cost)
}
