// Package leadgen writes synthetic lead files for benchmarks and tests: US
// numbers over several time zones in the formats real lists mix, names,
// addresses, a custom column, and a known share of duplicates and invalid
// numbers. Deterministic for a seed. Used by tests, benchmarks and the
// bench/genleads command; never by the product.
package leadgen
