package simtest

import "github.com/pacer-dialer/pacer/dialer/sim"

// FastRealtime answers in tens of milliseconds and keeps calls to a few
// hundred, so a test sees many calls in seconds. It has no no-answers: those
// ring for the legal 15 s. Add pauses with the Pause field when a test needs
// them.
func FastRealtime() sim.Realtime {
	u := func(lo, hi float64) sim.Dist { return sim.Dist{Dist: "uniform", Min: lo, Max: hi} }
	rt := sim.DemoRealtime()
	rt.Outcomes = []sim.Outcome{
		{Kind: "human", P: 0.6, After: u(0.02, 0.08)},
		{Kind: "machine", P: 0.2, After: u(0.02, 0.08)},
		{Kind: "busy", P: 0.2, After: u(0.01, 0.04)},
	}
	rt.RingAfter = u(0.005, 0.015)
	rt.CustomerTalk = u(2, 3)
	rt.AgentTalk = u(0.1, 0.25)
	rt.Dispo = u(0.03, 0.08)
	rt.LoginReady = u(0.01, 0.05)
	return rt
}

// Breaks are short pauses after half the calls.
func Breaks() *sim.Pause {
	return &sim.Pause{P: 0.5, Pause: sim.Dist{Dist: "uniform", Min: 0.05, Max: 0.1}}
}
