// Package simtest holds the simulated carrier and agents at test speed, for
// the tests of every package that runs the engine in real time. Test code
// only.
package simtest
