package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/web"
)

// Agents' SIP phones from the command line: a SIP password for a phone that
// registers, or a fixed URI Pacer calls; `users show` says which is live.

// leadingArgs takes up to n arguments before the first flag, so that
// `pacer users set-phone ann sip:... --clear` reads like the README says.
func leadingArgs(args []string, n int) (pos, rest []string) {
	for len(args) > 0 && len(pos) < n && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, args
}

// openUser opens the database and finds the named user for a phone
// command; the caller closes the database.
func (c *dbCommand) openUser(ctx context.Context, stderr io.Writer, name string) (*database, web.User, error) {
	return openFind(ctx, c, stderr, func(d *database) (web.User, error) {
		u, err := web.GetUserByName(ctx, d.pool, name)
		if errors.Is(err, web.ErrUserNotFound) {
			return web.User{}, fmt.Errorf("no user %q", name)
		}
		if err != nil {
			return web.User{}, fmt.Errorf("user %q: %w", name, err)
		}
		return u, nil
	})
}

func usersSetSIPPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, args := leadingArgs(args, 1)
	c := newDBCommand("users set-sip-password", "pacer users set-sip-password USER [--clear] < password", stdout)
	realm := c.fs.String("sip-realm", agents.DefaultRealm, "digest realm the phone registers in (must match `pacer serve`'s)")
	clear := c.fs.Bool("clear", false, "remove the SIP password: the phone can no longer register")
	c.fs.noEnv["clear"] = true
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name the user: pacer users set-sip-password USER"}
	}
	if err := agents.CheckRealm(*realm); err != nil {
		return usageError{err.Error()}
	}
	var password string
	if !*clear {
		var err error
		if password, err = secretFromStdin(os.Stdin, "SIP password"); err != nil {
			return err
		}
		if password == "" {
			return usageError{"write the SIP password to stdin"}
		}
		if err := agents.CheckSIPPassword(password); err != nil {
			return usageError{err.Error()}
		}
	}
	d, u, err := c.openUser(ctx, stderr, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	if *clear {
		if err := agents.ClearSIPPassword(ctx, d.pool, agents.ID(u.ID)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s's SIP password; their phone can no longer register\n", u.Username)
		return nil
	}
	if err := agents.SetSIPPassword(ctx, d.pool, agents.SIPPassword{Agent: agents.ID(u.ID), Realm: *realm, Password: password}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set %s's SIP password (realm %s): register the phone as user %s\n", u.Username, *realm, u.Username)
	return nil
}

func usersSetPhone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, args := leadingArgs(args, 2)
	c := newDBCommand("users set-phone", "pacer users set-phone USER sip:user@host[:port] | USER --clear", stdout)
	clear := c.fs.Bool("clear", false, "remove the fixed phone URI")
	c.fs.noEnv["clear"] = true
	if err := c.fs.parse(args); err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageError{"name the user: pacer users set-phone USER sip:..."}
	case *clear && len(pos) > 1:
		return usageError{"give either a URI or --clear, not both"}
	case !*clear && len(pos) < 2:
		return usageError{"give the phone's URI (sip:user@host[:port]) or --clear"}
	}
	if !*clear {
		if err := agents.CheckPhoneURI(pos[1]); err != nil {
			return usageError{err.Error()}
		}
	}
	d, u, err := c.openUser(ctx, stderr, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	if *clear {
		if err := agents.ClearPhoneURI(ctx, d.pool, agents.ID(u.ID)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s's phone URI\n", u.Username)
		return nil
	}
	if err := agents.SetPhoneURI(ctx, d.pool, agents.ID(u.ID), pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s's phone is %s\n", u.Username, pos[1])
	return nil
}

func usersShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, args := leadingArgs(args, 1)
	c := newDBCommand("users show", "pacer users show USER", stdout)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"name the user: pacer users show USER"}
	}
	d, u, err := c.openUser(ctx, stderr, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	status := "active"
	if u.Disabled {
		status = "disabled"
	}
	fmt.Fprintf(stdout, "user:         %s (id %d)\n", u.Username, u.ID)
	if u.DisplayName != "" {
		fmt.Fprintf(stdout, "name:         %s\n", u.DisplayName)
	}
	fmt.Fprintf(stdout, "role:         %s\nstatus:       %s\n", u.Role, status)
	if u.LastLoginAt != nil {
		fmt.Fprintf(stdout, "last login:   %s\n", u.LastLoginAt.UTC().Format(time.RFC3339))
	}
	if u.Role != web.RoleAgent {
		return nil
	}
	p, err := agents.GetPhone(ctx, d.pool, agents.ID(u.ID), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "phone:        %s\n", phoneSummary(p))
	if p.HasSIPPassword() {
		fmt.Fprintf(stdout, "sip password: set (realm %s)\n", p.Realm)
	} else {
		fmt.Fprintln(stdout, "sip password: not set")
	}
	return nil
}

// phoneSummary is one line saying where Pacer calls the agent.
func phoneSummary(p agents.Phone) string {
	if len(p.Registrations) > 0 {
		r := p.Registrations[0]
		s := fmt.Sprintf("registered %s from %s (%s) until %s", r.Contact, r.Source, r.Transport,
			r.ExpiresAt.UTC().Format(time.RFC3339))
		if r.UserAgent != "" {
			s += ", " + r.UserAgent
		}
		return s
	}
	if p.FixedURI != "" {
		return "fixed " + p.FixedURI
	}
	if p.HasSIPPassword() {
		return "none (not registered)"
	}
	return "none"
}
