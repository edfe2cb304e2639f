// Command pacer is the Pacer dialer: one binary that serves the web
// workspace and runs the engine (`serve`), migrates the database (`migrate`),
// manages campaigns, leads, DNC lists and SIP trunks, opens psql on its database (`psql`),
// and runs the pacing simulator.
//
// This package only wires: it reads flags and environment, builds each
// component from its Config, starts them and stops them. No business logic.
package main
