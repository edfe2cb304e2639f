// Package benchout records benchmark figures: when PACER_BENCH_OUT names a
// directory (make bench sets it to bench/results), Write stores one JSON
// file per benchmark there, which bench/report turns into the README table.
// Test code only.
package benchout
