// Command report turns the benchmark results in bench/results/*.json into the
// table between the bench markers in README.md (make bench runs it).
package main
