package agents

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Phones and registrations live in agent_phones and agent_registrations
// (migrations/0023_agent_phones.sql). The user's username, role and disabled
// flag are read from users, which package web owns.

// PhoneDB is what the phone queries need: a pool or a transaction.
type PhoneDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// SIPPassword sets a SIP password.
type SIPPassword struct {
	Agent    ID
	Realm    string // DefaultRealm when ""
	Password string // checked by CheckSIPPassword; only its HA1 is stored
}

// phoneUser is the agent user a phone belongs to, or an error naming why not.
func phoneUser(ctx context.Context, db PhoneDB, agent ID) (username string, err error) {
	var role string
	err = db.QueryRow(ctx, `SELECT username, role FROM users WHERE id = $1`, int64(agent)).Scan(&username, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("user %d: %w", agent, ErrNoUser)
	}
	if err != nil {
		return "", fmt.Errorf("user %d: %w", agent, err)
	}
	if role != "agent" {
		return "", fmt.Errorf("user %s is a %s: only agents have SIP phones", username, role)
	}
	return username, nil
}

// SetSIPPassword lets the agent's phone REGISTER with the password (its
// HA1 under the realm is stored, never the password).
func SetSIPPassword(ctx context.Context, db PhoneDB, p SIPPassword) error {
	if p.Realm == "" {
		p.Realm = DefaultRealm
	}
	if err := CheckRealm(p.Realm); err != nil {
		return err
	}
	if err := CheckSIPPassword(p.Password); err != nil {
		return err
	}
	username, err := phoneUser(ctx, db, p.Agent)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO agent_phones (agent_id, sip_ha1, sip_realm) VALUES ($1, $2, $3)
		ON CONFLICT (agent_id) DO UPDATE SET sip_ha1 = EXCLUDED.sip_ha1, sip_realm = EXCLUDED.sip_realm, updated_at = now()`,
		int64(p.Agent), HA1(username, p.Realm, p.Password), p.Realm)
	if err != nil {
		return fmt.Errorf("set agent %d's SIP password: %w", p.Agent, err)
	}
	return nil
}

// ClearSIPPassword stops the agent's phone from registering and drops its
// bindings; a fixed URI stays.
func ClearSIPPassword(ctx context.Context, db PhoneDB, agent ID) error {
	if _, err := phoneUser(ctx, db, agent); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DELETE FROM agent_registrations WHERE agent_id = $1`, int64(agent)); err != nil {
		return fmt.Errorf("drop agent %d's registrations: %w", agent, err)
	}
	return clearPhone(ctx, db, agent,
		`UPDATE agent_phones SET sip_ha1 = NULL, sip_realm = NULL, updated_at = now() WHERE agent_id = $1 AND fixed_uri IS NOT NULL`,
		`DELETE FROM agent_phones WHERE agent_id = $1 AND fixed_uri IS NULL`)
}

// SetPhoneURI sets the contact Pacer calls when the agent's phone has no
// live registration.
func SetPhoneURI(ctx context.Context, db PhoneDB, agent ID, uri string) error {
	if err := CheckPhoneURI(uri); err != nil {
		return err
	}
	if _, err := phoneUser(ctx, db, agent); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `INSERT INTO agent_phones (agent_id, fixed_uri) VALUES ($1, $2)
		ON CONFLICT (agent_id) DO UPDATE SET fixed_uri = EXCLUDED.fixed_uri, updated_at = now()`, int64(agent), uri)
	if err != nil {
		return fmt.Errorf("set agent %d's phone URI: %w", agent, err)
	}
	return nil
}

// ClearPhoneURI removes the agent's fixed URI; a SIP password stays.
func ClearPhoneURI(ctx context.Context, db PhoneDB, agent ID) error {
	if _, err := phoneUser(ctx, db, agent); err != nil {
		return err
	}
	return clearPhone(ctx, db, agent,
		`UPDATE agent_phones SET fixed_uri = NULL, updated_at = now() WHERE agent_id = $1 AND sip_ha1 IS NOT NULL`,
		`DELETE FROM agent_phones WHERE agent_id = $1 AND sip_ha1 IS NULL`)
}

// clearPhone runs update when the agent's phone keeps something else, or
// deletes the row (a phone with nothing set is no phone) when it would not.
func clearPhone(ctx context.Context, db PhoneDB, agent ID, update, remove string) error {
	if _, err := db.Exec(ctx, update, int64(agent)); err != nil {
		return fmt.Errorf("clear agent %d's phone: %w", agent, err)
	}
	if _, err := db.Exec(ctx, remove, int64(agent)); err != nil {
		return fmt.Errorf("clear agent %d's phone: %w", agent, err)
	}
	return nil
}

const phoneColumns = `u.id, u.username, u.role, u.disabled, coalesce(p.sip_realm, ''), coalesce(p.sip_ha1, ''), coalesce(p.fixed_uri, '')`

func scanPhone(row pgx.Row) (Phone, error) {
	var p Phone
	var id int64
	err := row.Scan(&id, &p.Username, &p.Role, &p.Disabled, &p.Realm, &p.HA1, &p.FixedURI)
	p.Agent = ID(id)
	return p, err
}

// GetPhone is the agent user's phone (empty fields when none is set) with
// the bindings live at now.
func GetPhone(ctx context.Context, db PhoneDB, agent ID, now time.Time) (Phone, error) {
	p, err := scanPhone(db.QueryRow(ctx, `SELECT `+phoneColumns+`
		FROM users u LEFT JOIN agent_phones p ON p.agent_id = u.id WHERE u.id = $1`, int64(agent)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Phone{}, fmt.Errorf("user %d: %w", agent, ErrNoUser)
	}
	if err != nil {
		return Phone{}, fmt.Errorf("agent %d's phone: %w", agent, err)
	}
	if p.Registrations, err = Registrations(ctx, db, agent, now); err != nil {
		return Phone{}, err
	}
	return p, nil
}

// PhoneByUsername is the phone of the user whose username (the SIP
// username, case-insensitive) is given, without registrations: what the
// registrar checks a REGISTER against.
func PhoneByUsername(ctx context.Context, db PhoneDB, username string) (Phone, error) {
	p, err := scanPhone(db.QueryRow(ctx, `SELECT `+phoneColumns+`
		FROM users u LEFT JOIN agent_phones p ON p.agent_id = u.id WHERE lower(u.username) = lower($1)`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return Phone{}, fmt.Errorf("user %q: %w", username, ErrNoUser)
	}
	if err != nil {
		return Phone{}, fmt.Errorf("user %q's phone: %w", username, err)
	}
	return p, nil
}

// ListPhones is every agent user's phone with live bindings, by agent.
func ListPhones(ctx context.Context, db PhoneDB, now time.Time) (map[ID]Phone, error) {
	rows, err := db.Query(ctx, `SELECT `+phoneColumns+`
		FROM users u LEFT JOIN agent_phones p ON p.agent_id = u.id WHERE u.role = 'agent'`)
	if err != nil {
		return nil, fmt.Errorf("list phones: %w", err)
	}
	out := map[ID]Phone{}
	for rows.Next() {
		p, err := scanPhone(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list phones: %w", err)
		}
		out[p.Agent] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list phones: %w", err)
	}
	regs, err := LiveRegistrations(ctx, db, now)
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		if p, ok := out[r.Agent]; ok {
			p.Registrations = append(p.Registrations, r)
			out[r.Agent] = p
		}
	}
	return out, nil
}

const registrationColumns = `agent_id, contact, host(source_ip), source_port, transport, expires_at, node_id, user_agent, registered_at`

func scanRegistrations(rows pgx.Rows) ([]Registration, error) {
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		var r Registration
		var agent int64
		var ip string
		var port int
		if err := rows.Scan(&agent, &r.Contact, &ip, &port, &r.Transport, &r.ExpiresAt, &r.Node, &r.UserAgent, &r.RegisteredAt); err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("registration source %q: %w", ip, err)
		}
		r.Agent, r.Source = ID(agent), netip.AddrPortFrom(a, uint16(port))
		out = append(out, r)
	}
	return out, rows.Err()
}

// Registrations are the agent's bindings live at now, newest first.
func Registrations(ctx context.Context, db PhoneDB, agent ID, now time.Time) ([]Registration, error) {
	rows, err := db.Query(ctx, `SELECT `+registrationColumns+` FROM agent_registrations
		WHERE agent_id = $1 AND expires_at > $2 ORDER BY registered_at DESC, contact`, int64(agent), now)
	if err != nil {
		return nil, fmt.Errorf("agent %d's registrations: %w", agent, err)
	}
	regs, err := scanRegistrations(rows)
	if err != nil {
		return nil, fmt.Errorf("agent %d's registrations: %w", agent, err)
	}
	return regs, nil
}

// LiveRegistrations are every agent's bindings live at now.
func LiveRegistrations(ctx context.Context, db PhoneDB, now time.Time) ([]Registration, error) {
	rows, err := db.Query(ctx, `SELECT `+registrationColumns+` FROM agent_registrations
		WHERE expires_at > $1 ORDER BY agent_id, registered_at DESC, contact`, now)
	if err != nil {
		return nil, fmt.Errorf("live registrations: %w", err)
	}
	regs, err := scanRegistrations(rows)
	if err != nil {
		return nil, fmt.Errorf("live registrations: %w", err)
	}
	return regs, nil
}

// SaveRegistration adds or refreshes a binding (agent, contact).
func SaveRegistration(ctx context.Context, db PhoneDB, r Registration) error {
	if err := checkSIPURI(r.Contact, maxContactURI); err != nil {
		return fmt.Errorf("agent %d's contact: %w", r.Agent, err)
	}
	if !r.Source.IsValid() || r.Source.Port() == 0 {
		return fmt.Errorf("agent %d's registration has no source address", r.Agent)
	}
	ua := cleanUserAgent(r.UserAgent)
	if !r.ExpiresAt.After(r.RegisteredAt) {
		return fmt.Errorf("agent %d's registration expires before it starts", r.Agent)
	}
	_, err := db.Exec(ctx, `INSERT INTO agent_registrations (`+insertRegistrationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (agent_id, contact) DO UPDATE SET source_ip = EXCLUDED.source_ip, source_port = EXCLUDED.source_port,
			transport = EXCLUDED.transport, expires_at = EXCLUDED.expires_at, node_id = EXCLUDED.node_id,
			user_agent = EXCLUDED.user_agent, registered_at = EXCLUDED.registered_at`,
		int64(r.Agent), r.Contact, r.Source.Addr().Unmap().String(), int(r.Source.Port()), strings.ToLower(r.Transport),
		r.ExpiresAt, r.Node, ua, r.RegisteredAt)
	if err != nil {
		return fmt.Errorf("save agent %d's registration: %w", r.Agent, err)
	}
	return nil
}

const insertRegistrationColumns = `agent_id, contact, source_ip, source_port, transport, expires_at, node_id, user_agent, registered_at`

// cleanUserAgent keeps a User-Agent header printable and short: it comes
// from the phone and is shown on the console.
func cleanUserAgent(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxUserAgent-4 {
			break
		}
		if r < 0x20 || r == 0x7f {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// RemoveRegistration drops one binding (an Expires: 0 for that contact).
func RemoveRegistration(ctx context.Context, db PhoneDB, agent ID, contact string) error {
	if _, err := db.Exec(ctx, `DELETE FROM agent_registrations WHERE agent_id = $1 AND contact = $2`, int64(agent), contact); err != nil {
		return fmt.Errorf("remove agent %d's registration: %w", agent, err)
	}
	return nil
}

// RemoveRegistrations drops all of the agent's bindings (Contact: *).
func RemoveRegistrations(ctx context.Context, db PhoneDB, agent ID) error {
	if _, err := db.Exec(ctx, `DELETE FROM agent_registrations WHERE agent_id = $1`, int64(agent)); err != nil {
		return fmt.Errorf("remove agent %d's registrations: %w", agent, err)
	}
	return nil
}

// DeleteExpiredRegistrations removes bindings dead at now (they are already
// ignored by every read; this keeps the table small).
func DeleteExpiredRegistrations(ctx context.Context, db PhoneDB, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM agent_registrations WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired registrations: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PhoneContact is where to call the agent's phone at now: the newest live
// binding, else the fixed URI, else ErrNoPhone.
func PhoneContact(ctx context.Context, db PhoneDB, agent ID, now time.Time) (Contact, error) {
	p, err := GetPhone(ctx, db, agent, now)
	if err != nil {
		return Contact{}, err
	}
	if len(p.Registrations) > 0 {
		r := p.Registrations[0]
		return Contact{URI: r.Contact, Registered: true, Source: r.Source, Transport: r.Transport, ExpiresAt: r.ExpiresAt}, nil
	}
	if p.FixedURI != "" {
		return Contact{URI: p.FixedURI}, nil
	}
	return Contact{}, fmt.Errorf("agent %s: %w", p.Username, ErrNoPhone)
}

// PhoneSources are the addresses phones may send INVITEs from at now: the
// sources of live bindings and the IP literals of fixed URIs.
func PhoneSources(ctx context.Context, db PhoneDB, now time.Time) ([]netip.Addr, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT host(source_ip) FROM agent_registrations WHERE expires_at > $1
		UNION SELECT fixed_uri FROM agent_phones WHERE fixed_uri IS NOT NULL`, now)
	if err != nil {
		return nil, fmt.Errorf("phone sources: %w", err)
	}
	defer rows.Close()
	var out []netip.Addr
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("phone sources: %w", err)
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		} else if a, ok := URIHost(s); ok {
			out = append(out, a.Unmap())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("phone sources: %w", err)
	}
	return out, nil
}
