// Package migrations owns Pacer's database schema: numbered SQL files embedded
// in the binary, applied in order, each in its own transaction with its version
// recorded in schema_migrations. River's own tables are migrated in the same
// step with rivermigrate. A session advisory lock makes concurrent migrators
// (several nodes starting at once) take turns: the second finds nothing to do.
//
// The domain packages own their tables and SQL; the DDL that creates those
// tables lives here only because a schema is applied as one ordered history.
//
// Its subpackages are the rest of the database plumbing the domain packages
// share: pgcluster finds or starts the server, pgbatch is the bounded
// write-behind queue the engine's stores write through.
//
// It may import pgx and River's migrator; it imports no Pacer package.
package migrations
