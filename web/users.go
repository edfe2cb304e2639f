package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do. Admins may do everything; managers run
// campaigns, lists, DNC and users; supervisors watch; agents take calls.
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleManager    Role = "manager"
	RoleAdmin      Role = "admin"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAgent, RoleSupervisor, RoleManager, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (agent, supervisor, manager or admin)", s)
}

// User is a person who logs in. Their ID is also their agent ID in the
// engine (users start above 1,000,000; simulated agents use 1..N).
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        Role      `json:"role"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	// LastLoginAt is the user's last successful login (nil: never).
	LastLoginAt *time.Time `json:"last_login_at"`
	hash        string
}

// ErrUserExists is returned when a username is taken.
var ErrUserExists = errors.New("a user with that name already exists")

// ErrUserNotFound is returned for an unknown user.
var ErrUserNotFound = errors.New("user not found")

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// MinPasswordLen is the shortest password accepted for new users. The demo
// users' passwords ("agent") are shorter and only created in demo mode.
const MinPasswordLen = 8

// UserDB is what the user store needs (a pool or a transaction).
type UserDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Bcrypt costs of new password hashes. Each step doubles the time a hash
// (and a login) takes: about 250 ms at the default on one core. Costs below
// WeakBcryptCost are for tests, where hundreds of logins must be cheap.
const (
	DefaultBcryptCost = 12
	WeakBcryptCost    = 10
	MinBcryptCost     = bcrypt.MinCost
	MaxBcryptCost     = 14
)

// CheckBcryptCost says whether cost is one Pacer hashes with. bcrypt itself
// would quietly use its own default for a cost below its minimum.
func CheckBcryptCost(cost int) error {
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, MinBcryptCost, MaxBcryptCost)
	}
	return nil
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	Password    string
	// Cost is the bcrypt cost (default DefaultBcryptCost).
	Cost int
	// AllowShort skips the minimum length (demo users only).
	AllowShort bool
}

// CreateUser stores a user with a bcrypt hash of their password.
func CreateUser(ctx context.Context, db UserDB, u NewUser) (User, error) {
	if !usernamePattern.MatchString(u.Username) {
		return User{}, fmt.Errorf("username %q: use 1-64 letters, digits and . _ @ -", u.Username)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return User{}, err
	}
	if len(u.Password) < MinPasswordLen && !u.AllowShort {
		return User{}, fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	}
	if len(u.Password) > 72 {
		return User{}, errors.New("password must be at most 72 bytes")
	}
	cost := cmp.Or(u.Cost, DefaultBcryptCost)
	if err := CheckBcryptCost(cost); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	var out User
	err = db.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, u.Username, u.DisplayName, string(u.Role), string(hash)).
		Scan(&out.ID, &out.Username, &out.DisplayName, &out.Role, &out.Disabled, &out.CreatedAt, &out.hash, &out.LastLoginAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, ErrUserExists
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return out, nil
}

const userColumns = `id, username, display_name, role, disabled, created_at, password_hash, last_login_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.Disabled, &u.CreatedAt, &u.hash, &u.LastLoginAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrUserNotFound
	}
	return u, err
}

// GetUser returns one user by id.
func GetUser(ctx context.Context, db UserDB, id int64) (User, error) {
	return scanUser(db.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
}

// GetUserByName returns one user by username (case-insensitive).
func GetUserByName(ctx context.Context, db UserDB, name string) (User, error) {
	return scanUser(db.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE lower(username) = lower($1)", name))
}

// ListUsers returns every user by username.
func ListUsers(ctx context.Context, db UserDB) ([]User, error) {
	rows, err := db.Query(ctx, "SELECT "+userColumns+" FROM users ORDER BY lower(username)")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetDisabled disables or re-enables a user; disabling ends their sessions.
func SetDisabled(ctx context.Context, db UserDB, id int64, disabled bool) error {
	tag, err := db.Exec(ctx, "UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1", id, disabled)
	if err != nil {
		return fmt.Errorf("user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrUserNotFound
	}
	if disabled {
		_, err = db.Exec(ctx, "DELETE FROM user_sessions WHERE user_id = $1", id)
	}
	return err
}

// checkNewPassword is the rule every new password meets (CreateUser's).
func checkNewPassword(password string) error {
	if len(password) < MinPasswordLen {
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return errors.New("password must be at most 72 bytes")
	}
	return nil
}

// SetPassword gives a user a new password and ends every session they have,
// so whoever held the old one is logged out; the change is recorded in
// user_events as by (never the password).
func SetPassword(ctx context.Context, db UserDB, id int64, password string, cost int, by User) error {
	if err := checkNewPassword(password); err != nil {
		return err
	}
	cost = cmp.Or(cost, DefaultBcryptCost)
	if err := CheckBcryptCost(cost); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	tag, err := db.Exec(ctx, "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", id, string(hash))
	if err != nil {
		return fmt.Errorf("user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrUserNotFound
	}
	if _, err := db.Exec(ctx, "DELETE FROM user_sessions WHERE user_id = $1", id); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", id, err)
	}
	return RecordUserEvent(ctx, db, id, "password_reset", by)
}

// UserEvent is one recorded change to a user account.
type UserEvent struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// RecordUserEvent records a change by to user id (create, disable, enable,
// password_reset).
func RecordUserEvent(ctx context.Context, db UserDB, id int64, action string, by User) error {
	var byID *int64
	if by.ID != 0 {
		byID = &by.ID
	}
	if _, err := db.Exec(ctx, "INSERT INTO user_events (user_id, action, by_user, by_name) VALUES ($1, $2, $3, $4)",
		id, action, byID, by.Username); err != nil {
		return fmt.Errorf("record %s of user %d: %w", action, id, err)
	}
	return nil
}

// UserEvents returns the recorded changes to a user, newest first.
func UserEvents(ctx context.Context, db UserDB, id int64, limit int) ([]UserEvent, error) {
	rows, err := db.Query(ctx, "SELECT action, by_name, at FROM user_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2", id, limit)
	if err != nil {
		return nil, fmt.Errorf("events of user %d: %w", id, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserEvent, error) {
		var e UserEvent
		err := r.Scan(&e.Action, &e.By, &e.At)
		return e, err
	})
}

// CountUsers counts users (demo mode creates its users on an empty table).
func CountUsers(ctx context.Context, db UserDB) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// dummyHash returns a hash at the given cost, made on first use, to compare
// against when the username is unknown, so a login for a missing user takes
// as long as one with a wrong password.
func dummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("pacer-dummy-password"), cost)
		return h
	})
}

// checkPassword returns the user when the password is right and the user
// enabled; any failure is the same error, so it does not tell which part
// was wrong. dummy is compared against for an unknown username.
func checkPassword(ctx context.Context, db UserDB, username, password string, dummy func() []byte) (User, error) {
	u, err := GetUserByName(ctx, db, username)
	if errors.Is(err, ErrUserNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummy(), []byte(password))
		return User{}, errBadLogin
	}
	if err != nil {
		return User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.hash), []byte(password)) != nil || u.Disabled {
		return User{}, errBadLogin
	}
	return u, nil
}

var errBadLogin = errors.New("wrong username or password")

// DemoUser is one account demo mode creates.
type DemoUser struct {
	Username, Password string
	Role               Role
}

// DemoUsers are the demo accounts: agent1…agent5 / agent, supervisor /
// supervisor, manager / manager, admin / admin.
func DemoUsers() []DemoUser {
	var out []DemoUser
	for i := 1; i <= 5; i++ {
		out = append(out, DemoUser{fmt.Sprintf("agent%d", i), "agent", RoleAgent})
	}
	return append(out, DemoUser{"supervisor", "supervisor", RoleSupervisor}, DemoUser{"manager", "manager", RoleManager},
		DemoUser{"admin", "admin", RoleAdmin})
}

// EnsureDemoUsers creates the demo accounts that are missing on a database
// whose only users are demo accounts, none of them disabled (a database made
// by an earlier demo gets the accounts added since, such as admin), and
// returns those it created. A database with any other user, or a demo
// account disabled, is someone's real setup: it does nothing there. The
// passwords are printed and documented, so they are hashed at no more than
// WeakBcryptCost, which keeps a first start quick (0 means the default).
func EnsureDemoUsers(ctx context.Context, db UserDB, cost int) ([]DemoUser, error) {
	users, err := ListUsers(ctx, db)
	if err != nil {
		return nil, err
	}
	demo := map[string]bool{}
	for _, d := range DemoUsers() {
		demo[d.Username] = true
	}
	have := map[string]bool{}
	for _, u := range users {
		if !demo[u.Username] || u.Disabled {
			return nil, nil
		}
		have[u.Username] = true
	}
	cost = min(cmp.Or(cost, DefaultBcryptCost), WeakBcryptCost)
	var created []DemoUser
	for _, d := range DemoUsers() {
		if have[d.Username] {
			continue
		}
		if _, err := CreateUser(ctx, db, NewUser{Username: d.Username, Role: d.Role, Password: d.Password, Cost: cost,
			AllowShort: true}); err != nil && !errors.Is(err, ErrUserExists) {
			return nil, err
		}
		created = append(created, d)
	}
	return created, nil
}
