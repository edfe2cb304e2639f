package web

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loginThrottle slows password guessing down without letting anyone lock a
// user out: it counts failed logins per (username, client address), so a
// flood of wrong passwords from one address delays only that address's
// attempts at that username, and the user logging in from their own desk is
// not held up. After free failures each further attempt waits delay, then
// twice as long, and so on up to maxDelay. An address's failures across
// every username are counted too, ten times looser, against spraying one
// password over many usernames (an office behind one address shares it).
//
// The counts are in PostgreSQL (login_failures), so every node of a cluster
// sees the same ones: a guesser gains nothing by spreading attempts over
// nodes. Each attempt is counted as it starts, under a per-address lock,
// and given back when the password was right, so a burst of parallel
// attempts cannot slip past the count.
type loginThrottle struct {
	db       *pgxpool.Pool
	free     int
	delay    time.Duration
	maxDelay time.Duration
	// memory: a row quiet for this long is forgotten.
	memory time.Duration
}

// addressFactor: an address may fail this many times more often across all
// usernames than for one.
const addressFactor = 10

// anyUser is the username of an address's row for all usernames.
const anyUser = ""

// throttleLockClass is the first key of the per-address advisory lock.
const throttleLockClass = 1819240521

// wait is how long an attempt must wait after failures failures, free of
// them allowed without delay.
func (t *loginThrottle) wait(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	d := t.delay
	for i := free; i < failures && d < t.maxDelay; i++ {
		d *= 2
	}
	return min(d, t.maxDelay)
}

// admit counts an attempt by client at username, or reports how long the
// client must wait first (then nothing is counted).
func (t *loginThrottle) admit(ctx context.Context, username string, client netip.Addr, now time.Time) (time.Duration, error) {
	username = strings.ToLower(username)
	var wait time.Duration
	err := t.locked(ctx, client, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE last_attempt_at <= $1`, now.Add(-t.memory)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT username, failures, last_attempt_at FROM login_failures
			WHERE client = $1 AND username IN ($2, '')`, client, username)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				user     string
				failures int
				last     time.Time
			)
			if err := rows.Scan(&user, &failures, &last); err != nil {
				return err
			}
			free := t.free
			if user == anyUser {
				free *= addressFactor
			}
			wait = max(wait, last.Add(t.wait(failures, free)).Sub(now))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if wait > 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO login_failures AS f (username, client, failures, last_attempt_at)
			VALUES ($1, $2, 1, $3), ('', $2, 1, $3)
			ON CONFLICT (client, username) DO UPDATE SET failures = f.failures + 1, last_attempt_at = $3`,
			username, client, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	return wait, nil
}

// locked runs fn in a transaction holding client's lock, so the counts of
// one address change one request at a time.
func (t *loginThrottle) locked(ctx context.Context, client netip.Addr, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, t.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2::text))`, throttleLockClass, client.String()); err != nil {
			return err
		}
		return fn(tx)
	})
}

// succeeded clears the client's failures at username and gives back the
// attempt counted for the address.
func (t *loginThrottle) succeeded(ctx context.Context, username string, client netip.Addr) error {
	return t.locked(ctx, client, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH pair AS (DELETE FROM login_failures WHERE client = $1 AND username = $2)
			UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE client = $1 AND username = ''`,
			client, strings.ToLower(username))
		return err
	})
}

// giveBack returns an attempt that reached no verdict (the check failed).
func (t *loginThrottle) giveBack(ctx context.Context, username string, client netip.Addr) error {
	return t.locked(ctx, client, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE login_failures SET failures = greatest(failures - 1, 0)
			WHERE client = $1 AND username IN ($2, '')`, client, strings.ToLower(username))
		return err
	})
}
