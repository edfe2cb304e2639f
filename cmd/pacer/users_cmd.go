package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/pacer-dialer/pacer/web"
)

func usersCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("users", map[string]command{
		"add":     {"add a user: --username U --role agent|supervisor|manager|admin; password read from stdin", usersAdd},
		"list":    {"list users", usersList},
		"disable": {"disable a user and end their sessions: --username U", usersDisable(true)},
		"enable":  {"enable a disabled user: --username U", usersDisable(false)},
		"show":    {"show a user and, for an agent, their SIP phone: USER", usersShow},
		"set-sip-password": {"let an agent's SIP phone register: USER; password read from stdin (--clear removes it)",
			usersSetSIPPassword},
		"set-phone": {"the SIP URI Pacer calls an agent's phone at: USER sip:user@host[:port] (--clear removes it)",
			usersSetPhone},
	})
}

func usersAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("users add", "pacer users add --username U --role R < password", stdout)
	username := c.fs.String("username", "", "login name (required)")
	role := c.fs.String("role", "", "agent, supervisor, manager or admin (required)")
	display := c.fs.String("display-name", "", "name shown to others")
	cost := c.fs.Int("bcrypt-cost", web.DefaultBcryptCost, "bcrypt cost of the password hash (4-14; below 10 only for tests)")
	for _, n := range []string{"username", "role", "display-name"} {
		c.fs.noEnv[n] = true
	}
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return usageError{"--username and --role are required"}
	}
	r, err := web.ParseRole(*role)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := web.CheckBcryptCost(*cost); err != nil {
		return usageError{err.Error()}
	}
	if *cost < web.WeakBcryptCost {
		fmt.Fprintf(stderr, "warning: bcrypt cost %d is for tests; this password hash is weak\n", *cost)
	}
	password, err := secretFromStdin(os.Stdin, "password")
	if err != nil {
		return err
	}
	if password == "" {
		return usageError{"write the password to stdin"}
	}
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := web.CreateUser(ctx, d.pool, web.NewUser{Username: *username, DisplayName: *display, Role: r,
		Password: password, Cost: *cost})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s user %s (id %d)\n", u.Role, u.Username, u.ID)
	return nil
}

func usersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("users list", "pacer users list", stdout)
	if err := c.fs.parse(args); err != nil {
		return err
	}
	d, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	us, err := web.ListUsers(ctx, d.pool)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tUSERNAME\tROLE\tSTATUS")
	for _, u := range us {
		st := "active"
		if u.Disabled {
			st = "disabled"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", u.ID, u.Username, u.Role, st)
	}
	return w.Flush()
}

func usersDisable(disable bool) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		c := newDBCommand("users "+verb, "pacer users "+verb+" --username U", stdout)
		username := c.fs.String("username", "", "login name (required)")
		c.fs.noEnv["username"] = true
		if err := c.fs.parse(args); err != nil {
			return err
		}
		if *username == "" {
			return usageError{"--username is required"}
		}
		d, err := c.open(ctx, stderr)
		if err != nil {
			return err
		}
		defer d.Close()
		u, err := web.GetUserByName(ctx, d.pool, *username)
		if err != nil {
			return fmt.Errorf("user %q: %w", *username, err)
		}
		if err := web.SetDisabled(ctx, d.pool, u.ID, disable); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", verb, u.Username)
		return nil
	}
}
