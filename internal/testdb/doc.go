// Package testdb gives each test its own migrated PostgreSQL database, cloned
// from a template in milliseconds. The server is TEST_DATABASE_URL or
// DATABASE_URL when set, otherwise a private cluster in a temporary directory,
// shared by every test process of a `go test ./...` run and stopped by the last
// one to finish. Test code only: nothing outside _test.go files imports it.
package testdb
