package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// `pacer lists show` counts a list's leads by where they stand; `pacer lists
// delete` refuses while a call of the list is in progress, then deletes its
// leads and keeps the list's record.
func TestListsDeleteCommand(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	_, errOut, code := pacerCLI(t, dbURL, "campaigns", "create", "--name", "Spring")
	require.Zero(t, code, errOut)
	file := filepath.Join(t.TempDir(), "spring.csv")
	require.NoError(t, os.WriteFile(file, []byte("phone\n(212) 436-5001\n(212) 436-5002\n(212) 436-5003\n"), 0o644))
	out, errOut, code := pacerCLI(t, dbURL, "leads", "import", "--campaign", "Spring", "--file", file, "--json")
	require.Zero(t, code, errOut)
	var res struct {
		List int64 `json:"list_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &res))
	require.NotZero(t, res.List, out)
	list := strconv.FormatInt(res.List, 10)

	// A lead being dialled, as the hopper leaves it while its call runs.
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(context.Background(), `UPDATE leads SET status = 'dialing', claimed_at = now(), claimed_by = 'n1'
		WHERE id = (SELECT id FROM leads WHERE list_id = $1 ORDER BY line LIMIT 1)`, res.List)
	require.NoError(t, err)

	out, errOut, code = pacerCLI(t, dbURL, "lists", "show", "--campaign", "Spring")
	require.Zero(t, code, errOut)
	require.Regexp(t, list+`\s+\S*spring.csv\s+ready\s+2\s+1\s+0\s+0\s+0\s+0\s+0\s+3`, out)

	_, errOut, code = pacerCLI(t, dbURL, "lists", "delete", "--list", list)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "1 call(s) in progress")
	require.Contains(t, errOut, "nothing was deleted")

	_, err = db.Exec(context.Background(), `UPDATE leads SET status = 'retry', claimed_at = NULL, claimed_by = '' WHERE list_id = $1`, res.List)
	require.NoError(t, err)
	out, errOut, code = pacerCLI(t, dbURL, "lists", "delete", "--list", list)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "list "+list+" deleted: 3 leads removed")
	var leads int
	var by string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM leads WHERE list_id = $1), deleted_by
		FROM lead_lists WHERE id = $1`, res.List).Scan(&leads, &by))
	require.Zero(t, leads)
	require.Contains(t, by, "cli")

	_, errOut, code = pacerCLI(t, dbURL, "lists", "delete", "--list", list)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "list was deleted")
	_, errOut, code = pacerCLI(t, dbURL, "lists", "delete")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--list ID is required")
	_, errOut, code = pacerCLI(t, dbURL, "lists", "delete", "--list", "999")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "not found")
}
