package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pacer-dialer/pacer/migrations"
)

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stdout)
	var db dbOptions
	var logs logOptions
	db.register(fs)
	logs.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	logger, err := logs.logger(stderr)
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, db, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := migrations.Migrate(ctx, d.pool, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (applied %d Pacer and %d River migrations)\n", res.Latest, len(res.Pacer), len(res.River))
	return nil
}
