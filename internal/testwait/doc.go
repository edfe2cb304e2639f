// Package testwait lets a test wait for an event it can only observe by
// polling (a row appears, an agent reaches a state, a server answers), for as
// long as the test may run rather than for a margin measured on a fast
// machine: on a machine busy with other work the same wait just takes
// longer. The one bound, HangGuard, only turns a hang into a failure with a
// message. Test code only: nothing outside _test.go files imports it; it
// imports only the standard library, testify and goleak.
package testwait
